/**
 * Replay of a recording: the multipart stream exactly as an MJPEG server sent it, with
 * `X-Timestamp` on each part, played back at its recorded timing (or at `--fps`), looping. A
 * recording of any MJPEG server is therefore a fixture, and `tuchuan record` makes one.
 *
 * The file is streamed from disk, part by part, on every pass: a recording of any length costs
 * the memory of one part (each part is bounded), never the whole file.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import { InputError } from "../core/errors.ts";
import type { Size, SourceFrame } from "../core/frame.ts";
import { jpegInfo } from "../jpeg/jpeg_info.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../jpeg/jpeg_splitter.ts";
import {
  boundaryFromContentType,
  readMultipart,
  trimTrailingNewlines,
} from "../multipart/multipart_reader.ts";
import type { SourceOffer } from "../plan/encode_plan.ts";
import { type Source, type SourceContext, SourceError } from "./source.ts";

/** One recorded part. `jpeg` is null for a damaged part (kept so that timing stays true). */
export interface RecordedPart {
  jpeg: Uint8Array | null;
  width: number;
  height: number;
  /** The part's `X-Timestamp` in epoch milliseconds, or null when it has none. */
  timestampMs: number | null;
}

/** The `--` boundary line a recording starts with, e.g. `--tuchuanframe`. */
export function sniffBoundary(head: Uint8Array): string | null {
  const text = new TextDecoder().decode(head.subarray(0, 200));
  const m = /^\s*--([^\r\n]+?)(?:--)?\r?\n/.exec(text) ?? /^\s*--([!-~]+)/.exec(text);
  return m ? m[1] : null;
}

/** True when `head` (the first bytes of a file) looks like a recording. */
export function isRecording(head: Uint8Array): boolean {
  return sniffBoundary(head) !== null;
}

/**
 * The parts of a recording read from `stream` (whose first bytes were `head`), in order.
 * Throws `SourceError` when it is not a readable multipart stream.
 */
export async function* recordingParts(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  name: string,
): AsyncGenerator<RecordedPart> {
  try {
    for await (
      const part of readMultipart(stream, boundaryFromContentType(`x; boundary=${boundary}`), {
        strict: false,
        maxPartBytes: DEFAULT_MAX_FRAME_BYTES,
      })
    ) {
      const body = trimTrailingNewlines(part.body);
      const ts = Number(part.headers.get("x-timestamp"));
      const info = jpegInfo(body);
      yield {
        jpeg: info ? body : null,
        width: info?.width ?? 0,
        height: info?.height ?? 0,
        timestampMs: Number.isFinite(ts) && ts > 0 ? ts * 1000 : null,
      };
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`Recording ${name} is not a readable multipart stream`, { cause: err });
  }
}

/** Where a recording's bytes come from, opened again for every pass. */
export interface Recording {
  /** Its name, for messages. */
  readonly name: string;
  /** Its bytes from the start, and its boundary; the stream is cancelled when `signal` aborts. */
  open(signal: AbortSignal): Promise<{ stream: ReadableStream<Uint8Array>; boundary: string }>;
}

/** A recording on disk, streamed part by part. */
export function fileRecording(path: string | URL): Recording {
  const name = String(path instanceof URL ? path.pathname.split("/").pop() : path);
  return { name, open: (signal) => openRecording(path, name, signal) };
}

/** A recording held in memory (tests). */
export function bytesRecording(bytes: Uint8Array, name = "recording"): Recording {
  return {
    name,
    open: () => {
      const boundary = sniffBoundary(bytes.subarray(0, 256));
      if (!boundary) throw new SourceError(`Recording ${name} does not start with a boundary line`);
      return Promise.resolve({ stream: ReadableStream.from([bytes]), boundary });
    },
  };
}

/** Opens a recording and reads its boundary; throws `SourceError` naming it when it has none. */
async function openRecording(
  path: string | URL,
  name: string,
  signal?: AbortSignal,
): Promise<{ stream: ReadableStream<Uint8Array>; boundary: string }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (cause) {
    throw new SourceError(`Cannot read recording ${name}: ${(cause as Error).message}`, { cause });
  }
  const head = new Uint8Array(256);
  const got = (await file.read(head)) ?? 0;
  await file.seek(0, Deno.SeekMode.Start);
  const boundary = sniffBoundary(head.subarray(0, got));
  if (!boundary) {
    file.close();
    throw new SourceError(`Recording ${name} does not start with a boundary line`);
  }
  const stream = file.readable;
  signal?.addEventListener("abort", () => stream.cancel().catch(() => {}), { once: true });
  return { stream, boundary };
}

/** What a recording holds, from its first parts: the frame size and the recorded frame rate. */
export interface RecordingInfo {
  size: Size;
  /** Frames per second over the parts looked at, or null without timestamps. */
  fps: number | null;
}

/**
 * Reads the first parts of a recording (at most `maxParts`) for its size and frame rate.
 * Throws `SourceError` when they hold no JPEG.
 */
export async function probeRecording(
  recording: Recording,
  maxParts = 100,
): Promise<RecordingInfo> {
  const name = recording.name;
  const ac = new AbortController();
  const { stream, boundary } = await recording.open(ac.signal);
  let size: Size | null = null;
  const stamps: number[] = [];
  let n = 0;
  try {
    for await (const part of recordingParts(stream, boundary, name)) {
      if (part.jpeg && !size) size = { width: part.width, height: part.height };
      if (part.timestampMs !== null) stamps.push(part.timestampMs);
      if (++n >= maxParts) break;
    }
  } finally {
    ac.abort();
  }
  if (!size) throw new SourceError(`Recording ${name} holds no JPEG frame`);
  const span = stamps.length > 1 ? stamps.at(-1)! - stamps[0] : 0;
  return { size, fps: span > 0 ? ((stamps.length - 1) * 1000) / span : null };
}

/**
 * Plays the recording at its recorded timing (or every `1000 / fps` ms when `fps` is given),
 * looping until `signal` aborts; the gap before each new pass is the mean recorded interval.
 * Damaged parts are reported through `onCorrupt` and skipped.
 */
export async function* replayFrames(
  recording: Recording,
  signal: AbortSignal,
  clock: Clock,
  options: { fps?: number | null; onCorrupt?: () => void } = {},
): AsyncGenerator<SourceFrame> {
  const period = options.fps ? 1000 / options.fps : null;
  let passStart = clock.now();
  let meanGap = period ?? 100;
  while (!signal.aborted) {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const { stream, boundary } = await recording.open(ac.signal);
    const name = recording.name;
    let first: number | null = null;
    let last = 0;
    let index = 0;
    let good = 0;
    try {
      for await (const part of recordingParts(stream, boundary, name)) {
        // Offsets from the first part; parts without a timestamp follow 100 ms later.
        let t = part.timestampMs ?? last + 100;
        first ??= t;
        t = Math.max(t - first, last);
        last = t;
        const offset = period ? period * index : t;
        index++;
        const wait = passStart + offset - clock.now();
        if (wait > 0) {
          try {
            await clock.sleep(wait, signal);
          } catch {
            return;
          }
        } else if (wait < -1000) {
          // Fell far behind (a stalled consumer): restart the schedule rather than burst.
          passStart = clock.now() - offset;
        }
        if (!part.jpeg) {
          options.onCorrupt?.();
          continue;
        }
        good++;
        yield {
          kind: "jpeg",
          width: part.width,
          height: part.height,
          data: part.jpeg,
          capturedAt: clock.now(),
        };
      }
    } finally {
      ac.abort();
      signal.removeEventListener("abort", onAbort);
    }
    if (good === 0) throw new SourceError(`Recording ${name} holds no JPEG frame`);
    if (!period && index > 1) meanGap = last / (index - 1);
    passStart += period ? period * index : last + meanGap;
  }
}

/**
 * Opens a recording: reads its first parts for its size and rate. With `--fps` it plays at that
 * rate; otherwise at its recorded timing (and `/state` says which).
 */
export async function openReplay(path: string | URL, ctx: SourceContext): Promise<Source> {
  const recording = fileRecording(path);
  const name = recording.name;
  let info: RecordingInfo;
  try {
    info = await probeRecording(recording);
  } catch (cause) {
    throw new InputError(`Invalid --source ${name}: ${(cause as Error).message}`, {
      cause,
      flag: "--source",
    });
  }
  const recorded = info.fps ? `${+info.fps.toFixed(2)} fps` : "its recorded timing";
  const notes = ctx.fps ? [`plays at --fps ${ctx.fps} instead of the recorded ${recorded}`] : [];
  const offer: SourceOffer = {
    jpeg: true,
    native: true,
    ffmpegCanRead: false,
    size: info.size,
    fps: ctx.fps ?? info.fps,
    cameraFlip: false,
    mode: `a recording of ${info.size.width}x${info.size.height} JPEGs at ${
      ctx.fps ? `${ctx.fps} fps (--fps)` : recorded
    }`,
    notes,
  };
  ctx.planner.decide(offer);
  return {
    kind: "replay",
    input: name,
    offer,
    facts: () => ({ mode: offer.mode, notes }),
    frames(signal) {
      return replayFrames(recording, signal, ctx.clock, {
        fps: ctx.fps,
        onCorrupt: ctx.hooks.onCorrupt,
      });
    },
  };
}
