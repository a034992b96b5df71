/**
 * Replay of a recorded fixture: the multipart stream exactly as an MJPEG server sent it, with
 * `X-Timestamp` on each part, played back at its recorded timing (or at a fixed fps), looping.
 * A recording of any MJPEG server is therefore a fixture, and `tuchuan record` makes one.
 *
 * @module
 */
import type { Clock, SourceFrame } from "../frame.ts";
import { jpegInfo } from "../jpeg_info.ts";
import { boundaryFromContentType, readMultipart } from "../multipart_parser.ts";
import { SourceError } from "./source.ts";

/** One recorded part. `jpeg` is null for a damaged part (kept so timing stays true). */
export interface RecordedFrame {
  jpeg: Uint8Array | null;
  width: number;
  height: number;
  /** Milliseconds since the first frame of the recording. */
  offsetMs: number;
}

/** The `--` boundary line a recording starts with, e.g. `--tuchuanframe`. */
function sniffBoundary(head: Uint8Array): string | null {
  const text = new TextDecoder().decode(head.subarray(0, 200));
  const m = /^\s*--([^\r\n]+?)(?:--)?\r?\n/.exec(text) ?? /^\s*--([!-~]+)/.exec(text);
  return m ? m[1] : null;
}

/** True when `bytes` look like a multipart recording (starts with a boundary line). */
export function isRecording(bytes: Uint8Array): boolean {
  return sniffBoundary(bytes) !== null;
}

/**
 * Reads a recording into memory. Damaged parts (not a complete JPEG) are kept as null frames
 * and counted by the player, never served.
 */
export async function loadRecording(bytes: Uint8Array, name: string): Promise<RecordedFrame[]> {
  const boundary = sniffBoundary(bytes);
  if (!boundary) throw new SourceError(`Recording ${name} does not start with a boundary line`);
  const frames: RecordedFrame[] = [];
  let first: number | null = null;
  let last = 0;
  const stream = ReadableStream.from([bytes]);
  try {
    for await (
      const part of readMultipart(stream, boundaryFromContentType(`x; boundary=${boundary}`), {
        strict: false,
      })
    ) {
      const body = trimCrlf(part.body);
      const ts = Number(part.headers.get("x-timestamp"));
      let t = Number.isFinite(ts) && ts > 0 ? ts * 1000 : last + 100;
      if (first === null) first = t;
      if (t < last) t = last;
      last = t;
      const info = jpegInfo(body);
      frames.push({
        jpeg: info ? body : null,
        width: info?.width ?? 0,
        height: info?.height ?? 0,
        offsetMs: t - first,
      });
    }
  } catch (err) {
    throw new SourceError(`Recording ${name} is not a readable multipart stream`, { cause: err });
  }
  if (!frames.some((f) => f.jpeg)) throw new SourceError(`Recording ${name} holds no JPEG frame`);
  return frames;
}

function trimCrlf(body: Uint8Array): Uint8Array {
  let end = body.byteLength;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return end === body.byteLength ? body : body.subarray(0, end);
}

/**
 * Plays `frames` at their recorded timing (or every `1000 / fps` ms when `fps` is given),
 * looping until `signal` aborts. Damaged frames are reported through `onCorrupt` and skipped.
 */
export async function* replayFrames(
  frames: readonly RecordedFrame[],
  signal: AbortSignal,
  clock: Clock,
  options: { fps?: number | null; onCorrupt?: () => void } = {},
): AsyncGenerator<SourceFrame> {
  const period = options.fps ? 1000 / options.fps : null;
  const span = frames.length > 1 ? frames.at(-1)!.offsetMs : 0;
  // The gap after the last frame before the loop restarts: the recording's mean interval.
  const loopGap = frames.length > 1 ? span / (frames.length - 1) : (period ?? 100);
  let start = clock.now();
  let index = 0;
  while (!signal.aborted) {
    if (index === frames.length) {
      index = 0;
      start += period ? period * frames.length : span + loopGap;
    }
    const frame = frames[index];
    const due = start + (period ? period * index : frame.offsetMs);
    const wait = due - clock.now();
    if (wait > 0) {
      try {
        await clock.sleep(wait, signal);
      } catch {
        return;
      }
    } else if (wait < -1000) {
      // Fell far behind (a stalled consumer): restart the schedule rather than burst.
      start = clock.now() - (period ? period * index : frame.offsetMs);
    }
    index++;
    if (!frame.jpeg) {
      options.onCorrupt?.();
      continue;
    }
    yield {
      kind: "jpeg",
      width: frame.width,
      height: frame.height,
      data: frame.jpeg,
      capturedAt: clock.now(),
    };
  }
}
