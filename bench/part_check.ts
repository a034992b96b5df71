/**
 * Checks that one received multipart part is a complete JPEG, and reads its capture timestamp.
 *
 * Strict (tuchuan): `Content-Type: image/jpeg`, a `Content-Length` equal to the body length, and a
 * body from SOI (FFD8) to EOI (FFD9). Lenient (the seed): the seed writes `data/jpeg`, no length,
 * and extra CR/LF before its boundary, so only the trimmed body's JPEG markers are checked.
 *
 * @module
 */

/** Length of `body` without the trailing CR/LF bytes a lenient server leaves before its boundary. */
export function trimmedLength(body: Uint8Array): number {
  let end = body.length;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return end;
}

/** Why a part is not a complete JPEG, or `null` when it is. */
export function checkJpegPart(headers: Headers, body: Uint8Array, strict: boolean): string | null {
  let end = body.length;
  if (strict) {
    const type = headers.get("content-type");
    if (type?.split(";")[0].trim().toLowerCase() !== "image/jpeg") {
      return `content-type ${JSON.stringify(type)}`;
    }
    const length = headers.get("content-length");
    if (length === null) return "no content-length";
    if (Number(length) !== body.length) {
      return `content-length ${length} but ${body.length} bytes`;
    }
  } else {
    end = trimmedLength(body);
  }
  if (end < 4 || body[0] !== 0xff || body[1] !== 0xd8) return "does not start with FFD8";
  if (body[end - 2] !== 0xff || body[end - 1] !== 0xd9) return "does not end with FFD9";
  return null;
}

/**
 * The part's `X-Timestamp` (capture time, unix seconds with a fraction) in epoch milliseconds, or
 * `undefined` when absent or unparsable (the seed sends none).
 */
export function captureTimeMs(headers: Headers): number | undefined {
  const raw = headers.get("x-timestamp");
  if (raw === null) return undefined;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Wall-clock time in epoch milliseconds with sub-millisecond precision (`Date.now()` has 1 ms). */
export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}
