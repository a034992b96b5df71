/**
 * A folder of JPEGs, read by tuchuan itself (no ffmpeg, unless the plan needs ffmpeg to scale or
 * re-encode them): the files in name order, looped, one
 * every `1000 / fps` ms. The list is read again at each loop, so files added meanwhile join in.
 * Each file is read with a size bound and checked; a damaged one is dropped and counted.
 *
 * The read is synchronous on purpose: a 20 KB file from the page cache takes microseconds,
 * while an asynchronous read goes through Deno's thread pool and back, a wake-up that costs
 * more than the read (the folder is the benchmark's source, and a small board's cost is per
 * frame). A folder on a slow network share would stall the server for as long as a read takes.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import { InputError } from "../core/errors.ts";
import type { SourceFrame } from "../core/frame.ts";
import { FileReadError, readFileBounded } from "../core/read_bounded.ts";
import { jpegInfo } from "../jpeg/jpeg_info.ts";
import { DEFAULT_MAX_FRAME_BYTES } from "../jpeg/jpeg_splitter.ts";
import type { SourceOffer } from "../plan/encode_plan.ts";
import { ffmpegFrames } from "./ffmpeg_frames.ts";
import { ffmpegJob } from "./ffmpeg_job.ts";
import { type CaptureHooks, type Source, type SourceContext, SourceError } from "./source.ts";

const JPEG_NAME = /\.jpe?g$/i;

/** The JPEG files of `dir`, in name order. Throws `SourceError` when there are none. */
export function listJpegs(dir: string): string[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)]
      .filter((e) => (e.isFile || e.isSymlink) && JPEG_NAME.test(e.name))
      .map((e) => e.name)
      .sort();
  } catch (cause) {
    throw new SourceError(`Cannot read folder ${dir}: ${(cause as Error).message}`, { cause });
  }
  if (names.length === 0) {
    throw new SourceError(`Folder ${dir} holds no JPEG files (*.jpg, *.jpeg)`);
  }
  const base = dir.replace(/\/+$/, "");
  return names.map((n) => `${base}/${n}`);
}

/** Reads one frame file; null (and `onCorrupt`) when it is not a whole JPEG or cannot be read. */
export function readJpegFile(path: string, hooks: Pick<CaptureHooks, "onCorrupt">) {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, DEFAULT_MAX_FRAME_BYTES, "frame");
  } catch (err) {
    // Removed since the listing, or too large: skip it like a damaged frame.
    if (err instanceof FileReadError) {
      hooks.onCorrupt?.();
      return null;
    }
    throw err;
  }
  const info = jpegInfo(bytes);
  if (!info) {
    hooks.onCorrupt?.();
    return null;
  }
  return { data: bytes, width: info.width, height: info.height };
}

/** Plays the folder at `fps`, looping, until `signal` aborts. */
export async function* folderFrames(
  dir: string,
  fps: number,
  signal: AbortSignal,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt"> = {},
): AsyncGenerator<SourceFrame> {
  let wake: (() => void) | null = null;
  let ticks = 0;
  // One repeating timer paces the folder; ticks that come while the consumer is busy coalesce.
  clock.every(1000 / fps, () => {
    ticks++;
    wake?.();
  }, signal);
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  while (!signal.aborted) {
    const files = listJpegs(dir);
    let good = 0;
    for (const path of files) {
      if (ticks === 0) {
        await Promise.race([new Promise<void>((resolve) => wake = resolve), aborted]);
        wake = null;
      }
      if (signal.aborted) return;
      ticks = 0;
      const jpeg = readJpegFile(path, hooks);
      if (!jpeg) continue;
      good++;
      yield { kind: "jpeg", ...jpeg, capturedAt: clock.now() };
    }
    if (good === 0) throw new SourceError(`Folder ${dir} holds no readable JPEG`);
  }
}

/** The rate a folder plays at when `--fps` is not given. */
export const FOLDER_DEFAULT_FPS = 30;

/**
 * Opens a folder of JPEGs. Throws `InputError` when it holds none (or none that is a whole
 * JPEG among its first files).
 */
export function openFolder(dir: string, ctx: SourceContext): Source {
  let files: string[];
  try {
    files = listJpegs(dir);
  } catch (cause) {
    throw new InputError(`Invalid --source ${dir}: ${(cause as Error).message}`, {
      cause,
      flag: "--source",
    });
  }
  let first: { width: number; height: number } | null = null;
  for (const path of files.slice(0, 10)) {
    first = readJpegFile(path, {});
    if (first) break;
  }
  if (!first) {
    throw new InputError(`Invalid --source ${dir}: its first JPEG files are damaged`, {
      flag: "--source",
    });
  }
  const fps = ctx.fps ?? FOLDER_DEFAULT_FPS;
  const offer: SourceOffer = {
    jpeg: true,
    native: true,
    ffmpegCanRead: true,
    size: { width: first.width, height: first.height },
    fps,
    cameraFlip: false,
    mode: `${files.length} JPEG files (${first.width}x${first.height}) at ${fps} fps`,
    notes: [],
  };
  const plan = ctx.planner.decide(offer);
  return {
    kind: "folder",
    input: dir,
    offer,
    facts: () => ({ mode: offer.mode }),
    frames(signal) {
      if (plan.ffmpeg === null) return folderFrames(dir, fps, signal, ctx.clock, ctx.hooks);
      return ffmpegFrames(
        ffmpegJob({ kind: "folder", dir, fps }, plan, ctx.quality, null),
        signal,
        ctx.clock,
        ctx.hooks,
      );
    },
  };
}
