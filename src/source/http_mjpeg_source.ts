/**
 * An MJPEG stream over HTTP(S) (an IP camera, another tuchuan's `/stream`), read by tuchuan
 * itself: `fetch` and the project's multipart reader, no ffmpeg. A URL that serves a single
 * `image/jpeg` (a camera's snapshot URL) is polled instead. Credentials in the URL travel as an
 * `Authorization` header (fetch refuses URLs that carry them), never in a command line.
 *
 * @module
 */
import { concatBytes } from "../core/concat_bytes.ts";
import type { Clock } from "../core/clock.ts";
import type { SourceFrame } from "../core/frame.ts";
import { redactUrls } from "../core/redact.ts";
import { jpegInfo } from "../jpeg/jpeg_info.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../jpeg/jpeg_splitter.ts";
import {
  boundaryFromContentType,
  readMultipart,
  trimTrailingNewlines,
} from "../multipart/multipart_reader.ts";
import { splitCredentials } from "./ffmpeg_args.ts";
import { type CaptureHooks, SourceError } from "./source.ts";

/** How long to wait for the response headers. */
const CONNECT_TIMEOUT_MS = 5000;

/** What an HTTP URL serves, as far as tuchuan cares. */
export type HttpContent = "multipart" | "jpeg" | "other";

/** The kind of body a Content-Type announces. */
export function httpContent(contentType: string): HttpContent {
  if (/^\s*multipart\/x-mixed-replace/i.test(contentType)) return "multipart";
  if (/^\s*image\/jpe?g/i.test(contentType)) return "jpeg";
  return "other";
}

/** A request for `url` with its credentials moved into a header. */
function request(url: string): { target: string; headers: Headers } {
  const split = splitCredentials(url);
  const headers = new Headers();
  if (split.authorization) headers.set("Authorization", split.authorization);
  return { target: split.url, headers };
}

/** GETs `url`, giving up when the headers take longer than `timeoutMs`. */
async function open(url: string, signal: AbortSignal, timeoutMs: number): Promise<Response> {
  const { target, headers } = request(url);
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(target, { headers, signal: AbortSignal.any([signal, timeout]) });
  } catch (cause) {
    if (signal.aborted) throw cause;
    const why = timeout.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : (cause as Error).message;
    throw new SourceError(`Cannot reach ${redactUrls(url)}: ${redactUrls(why)}`, { cause });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new SourceError(`${redactUrls(url)} answered HTTP ${res.status} ${res.statusText}`);
  }
  return res;
}

/**
 * Asks `url` what it serves (the response headers only), for the encode plan; null when it
 * cannot be reached now.
 */
export async function probeHttp(url: string, timeoutMs = 3000): Promise<HttpContent | null> {
  const ac = new AbortController();
  try {
    const res = await open(url, ac.signal, timeoutMs);
    const kind = httpContent(res.headers.get("content-type") ?? "");
    await res.body?.cancel();
    return kind;
  } catch {
    return null;
  } finally {
    ac.abort();
  }
}

/**
 * Reads the MJPEG stream at `url` until it ends or fails (`SourceError`) or `signal` aborts.
 * `fps` caps the rate (frames in between are skipped); for a single-JPEG URL it is the poll rate.
 */
export async function* httpMjpegFrames(
  url: string,
  fps: number | null,
  signal: AbortSignal,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt"> = {},
): AsyncGenerator<SourceFrame> {
  const res = await open(url, signal, CONNECT_TIMEOUT_MS);
  const type = res.headers.get("content-type") ?? "";
  const content = httpContent(type);
  if (content === "jpeg") {
    await res.body?.cancel();
    yield* polledJpegs(url, fps ?? 1, signal, clock, hooks);
    return;
  }
  if (content !== "multipart" || !res.body) {
    await res.body?.cancel();
    throw new SourceError(
      `${redactUrls(url)} serves ${type || "no Content-Type"}, not MJPEG (use --encoder ffmpeg)`,
    );
  }
  let boundary: string;
  try {
    boundary = boundaryFromContentType(type);
  } catch (cause) {
    await res.body.cancel();
    throw new SourceError(`${redactUrls(url)} sends multipart without a boundary`, { cause });
  }
  const minGap = fps ? 1000 / fps : 0;
  let lastAt = -Infinity;
  try {
    for await (
      const part of readMultipart(res.body, boundary, { maxPartBytes: DEFAULT_MAX_FRAME_BYTES })
    ) {
      const jpeg = trimTrailingNewlines(part.body);
      const info = jpegInfo(jpeg);
      if (!info) {
        hooks.onCorrupt?.();
        continue;
      }
      const now = clock.now();
      // A small tolerance so that a peer at exactly the capped rate is not halved by jitter.
      if (now - lastAt < minGap * 0.9) continue;
      lastAt = now;
      yield { kind: "jpeg", width: info.width, height: info.height, data: jpeg, capturedAt: now };
    }
  } catch (err) {
    if (signal.aborted) return;
    throw new SourceError(`${redactUrls(url)}: ${redactUrls((err as Error).message)}`, {
      cause: err,
    });
  }
  if (!signal.aborted) throw new SourceError(`${redactUrls(url)} ended the stream`);
}

async function* polledJpegs(
  url: string,
  fps: number,
  signal: AbortSignal,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt">,
): AsyncGenerator<SourceFrame> {
  const period = 1000 / fps;
  while (!signal.aborted) {
    const started = clock.now();
    const res = await open(url, signal, CONNECT_TIMEOUT_MS);
    const body = await readBounded(res, DEFAULT_MAX_FRAME_BYTES, url);
    const info = jpegInfo(body);
    if (info) {
      yield {
        kind: "jpeg",
        width: info.width,
        height: info.height,
        data: body,
        capturedAt: started,
      };
    } else hooks.onCorrupt?.();
    const wait = started + period - clock.now();
    if (wait > 0) {
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
    }
  }
}

/** A response body read whole, refusing one longer than `max` bytes. */
async function readBounded(res: Response, max: number, url: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.byteLength;
    if (total > max) {
      await res.body?.cancel();
      throw new SourceError(`${redactUrls(url)} sent an image over ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return concatBytes(chunks);
}
