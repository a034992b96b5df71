/**
 * Our multipart/x-mixed-replace writer (DESIGN §3): the bytes of `/stream` and of recordings.
 *
 * Wire format, normal mode (ffmpeg, GStreamer, OpenCV, scripts):
 *
 *     --B                                  opening boundary, first thing in the body
 *     \r\nContent-Type: image/jpeg\r\nContent-Length: N\r\nX-Timestamp: S.uuuuuu\r\n\r\n<jpeg>\r\n--B
 *     ...                                  each part ends with the next delimiter at once
 *     --\r\n                               on shutdown: turns the last delimiter into --B--
 *
 * The delimiter goes out right after each JPEG because a parser only knows a part is complete
 * when it sees the next delimiter; written late, viewers stay one frame behind
 * (https://github.com/miguelgrinberg/flask-video-streaming/issues/74).
 *
 * Advance-headers mode (Chromium `<img>`): Chromium paints a part only once the *next* part's
 * whole header block has arrived (https://crbug.com/527446, measured: 2 s late at 0.5 fps
 * otherwise), so after each JPEG we also send `Content-Type: image/jpeg\r\n\r\n`. That block
 * cannot carry the next frame's Content-Length or X-Timestamp, which is why it is only used for
 * browsers.
 *
 * The bytes of a part are built once per frame and shared by every client in the same mode.
 *
 * @module
 */
import type { EncodedFrame } from "../core/frame.ts";

/** The multipart boundary of every stream tuchuan writes (`/stream`, recordings). */
export const BOUNDARY = "tuchuanframe";

/** Content-Type of each part. */
export const JPEG_CONTENT_TYPE = "image/jpeg";

/** Content-Type of a stream written with {@link BOUNDARY}. */
export const STREAM_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${BOUNDARY}`;

const encoder = new TextEncoder();

/** Opening bytes of a normal-mode stream. */
export const OPEN_NORMAL: Uint8Array = encoder.encode(`--${BOUNDARY}`);
/** Closing bytes of a normal-mode stream that has sent at least the opening boundary. */
export const CLOSE_NORMAL: Uint8Array = encoder.encode(`--\r\n`);
/** The header block sent ahead in advance-headers mode. */
const ADVANCE_BLOCK = `\r\n--${BOUNDARY}\r\nContent-Type: ${JPEG_CONTENT_TYPE}\r\n\r\n`;
/** Opening bytes of an advance-headers stream: boundary and the first part's header block. */
export const OPEN_ADVANCE: Uint8Array = encoder.encode(ADVANCE_BLOCK.slice(2));
/** Closing bytes of an advance-headers stream: ends the empty part begun ahead, then closes. */
export const CLOSE_ADVANCE: Uint8Array = encoder.encode(`\r\n--${BOUNDARY}--\r\n`);
const ADVANCE_TAIL = encoder.encode(ADVANCE_BLOCK);
const NORMAL_TAIL = encoder.encode(`\r\n--${BOUNDARY}`);

/** `X-Timestamp` value: Unix seconds with microseconds, as ustreamer writes it. */
export function formatTimestamp(epochMs: number): string {
  return (epochMs / 1000).toFixed(6);
}

/** Which header layout a client gets. */
export type PartMode = "normal" | "advance";

/**
 * The parts of the last few frames. Viewers ask for the newest frame (or the one before it, when
 * they were still busy with it), so a short list is enough; a cache keyed by every frame would
 * keep a second copy of each frame the snapshot history holds.
 */
const recent: { frame: EncodedFrame; normal?: Uint8Array; advance?: Uint8Array }[] = [];
const RECENT = 3;

/**
 * The bytes that carry `frame` in the given mode, from the part header through the next
 * delimiter. Built once per frame and mode, then shared by every client.
 */
export function partBytes(frame: EncodedFrame, mode: PartMode): Uint8Array {
  let entry = recent.find((e) => e.frame === frame);
  if (!entry) {
    entry = { frame };
    recent.unshift(entry);
    if (recent.length > RECENT) recent.pop();
  }
  const hit = entry[mode];
  if (hit) return hit;
  const jpeg = frame.jpeg;
  let out: Uint8Array;
  if (mode === "normal") {
    const head =
      `\r\nContent-Type: ${JPEG_CONTENT_TYPE}\r\nContent-Length: ${jpeg.byteLength}\r\n` +
      `X-Timestamp: ${formatTimestamp(frame.capturedAt)}\r\n\r\n`;
    out = new Uint8Array(head.length + jpeg.byteLength + NORMAL_TAIL.byteLength);
    // The head is ASCII: written a character a byte, without a TextEncoder call and its copy.
    for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
    out.set(jpeg, head.length);
    out.set(NORMAL_TAIL, head.length + jpeg.byteLength);
  } else {
    out = new Uint8Array(jpeg.byteLength + ADVANCE_TAIL.byteLength);
    out.set(jpeg, 0);
    out.set(ADVANCE_TAIL, jpeg.byteLength);
  }
  entry[mode] = out;
  return out;
}

/** Opening bytes for a mode. */
export function openingBytes(mode: PartMode): Uint8Array {
  return mode === "normal" ? OPEN_NORMAL : OPEN_ADVANCE;
}

/** Closing bytes for a mode (the stream has sent its opening already). */
export function closingBytes(mode: PartMode): Uint8Array {
  return mode === "normal" ? CLOSE_NORMAL : CLOSE_ADVANCE;
}
