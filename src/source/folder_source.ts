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

/** A frame file's decoded facts and bytes. */
type FolderFrame = { data: Uint8Array; width: number; height: number };

/** What a file's `stat` says, to tell a rewritten file from the one read before. */
type FileStamp = { size: number; mtime: number };

/** The file's size and modification time, or null when it is not a file a frame can be. */
function stampOf(path: string): FileStamp | null {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile || info.size > DEFAULT_MAX_FRAME_BYTES) return null;
    return { size: info.size, mtime: info.mtime?.getTime() ?? 0 };
  } catch {
    return null;
  }
}

/** The bytes as a frame, or null when they are not a whole JPEG. */
function decodeFrame(bytes: Uint8Array): FolderFrame | null {
  const info = jpegInfo(bytes);
  return info ? { data: bytes, width: info.width, height: info.height } : null;
}

/**
 * Reads one frame file; null (and `onCorrupt`) when it is not a whole JPEG, is larger than a
 * frame can be, or cannot be read. Its size is checked first, then one read takes it whole.
 */
export function readJpegFile(
  path: string,
  hooks: Pick<CaptureHooks, "onCorrupt">,
): FolderFrame | null {
  const frame = stampOf(path) ? readFrame(path) : null;
  if (!frame) hooks.onCorrupt?.();
  return frame;
}

function readFrame(path: string): FolderFrame | null {
  try {
    return decodeFrame(Deno.readFileSync(path));
  } catch {
    // Removed since the listing or unreadable: skipped like a damaged frame.
    return null;
  }
}

/**
 * How many bytes of a folder's frames are kept in memory between loops. Reading a frame from
 * disk costs about 0.2 ms of CPU when the process wakes for it (measured: 30 reads a second
 * took as long as the rest of the frame's journey to a viewer), so a folder that fits is read
 * once, and beyond the budget the rest is read at every loop.
 */
export const FOLDER_CACHE_BYTES = 16 * 1024 * 1024;

/** How often the folder's own modification time is looked at, at most. */
const LISTING_CHECK_MS = 1000;

/** The file name at the end of a path. */
const nameOf = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/**
 * The folder's listing and its frames in memory, kept true to the files:
 * - watched (inotify, through `Deno.watchFs`): a file written is dropped from memory as the
 *   kernel reports it, and a file added, removed or renamed has the folder listed again. A
 *   frame then costs no system call at all (a `stat` per frame cost about 70 µs, a third of a
 *   frame's CPU, measured with perf).
 * - not watched (the folder cannot be, say a network share without inotify): each frame's file
 *   is `stat`ed, and read again when its size or modification time changed.
 * In both, the folder's own modification time is checked once a second, which also catches
 * files added or removed on a network share by another machine.
 */
class FolderCache {
  readonly #frames = new Map<string, { stamp: FileStamp; frame: FolderFrame }>();
  #bytes = 0;
  #files: string[] = [];
  #stale = true;
  #mtime: number | null = null;
  #checkedAt = -Infinity;
  #watching = false;

  constructor(readonly dir: string, readonly budget: number, readonly clock: Clock) {}

  /**
   * Starts watching the folder until `signal` aborts; returns false (and nothing changes) when
   * it cannot be watched.
   */
  watch(signal: AbortSignal): boolean {
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(this.dir, { recursive: false });
    } catch {
      return false;
    }
    this.#watching = true;
    const close = () => {
      try {
        watcher.close();
      } catch {
        // Closed already.
      }
    };
    signal.addEventListener("abort", close, { once: true });
    (async () => {
      try {
        for await (const event of watcher) this.#changed(event);
      } catch {
        // The watch broke (the folder was removed): fall back to checking each file.
      } finally {
        this.#watching = false;
        this.#stale = true;
        signal.removeEventListener("abort", close);
      }
    })();
    return true;
  }

  #changed(event: Deno.FsEvent): void {
    if (event.kind === "access") return;
    for (const path of event.paths) this.#drop(nameOf(path));
    if (event.kind !== "modify") this.#stale = true;
  }

  /** The files in name order. */
  files(): string[] {
    const now = this.clock.now();
    if (now - this.#checkedAt >= LISTING_CHECK_MS) {
      this.#checkedAt = now;
      let mtime: number | null = null;
      try {
        mtime = Deno.statSync(this.dir).mtime?.getTime() ?? null;
      } catch {
        // Unreadable now: listJpegs below says why.
      }
      if (mtime === null || mtime !== this.#mtime) this.#stale = true;
      this.#mtime = mtime;
    }
    if (this.#stale) {
      this.#stale = false;
      this.#files = listJpegs(this.dir);
      const names = new Set(this.#files.map(nameOf));
      for (const name of [...this.#frames.keys()]) if (!names.has(name)) this.#drop(name);
    }
    return this.#files;
  }

  /** A frame, from memory while its file is unchanged, else from disk (kept if it fits). */
  frame(path: string, hooks: Pick<CaptureHooks, "onCorrupt">): FolderFrame | null {
    const name = nameOf(path);
    const kept = this.#frames.get(name);
    if (kept && this.#watching) return kept.frame;
    const stamp = stampOf(path);
    if (!stamp) {
      this.#drop(name);
      hooks.onCorrupt?.();
      return null;
    }
    if (kept && kept.stamp.size === stamp.size && kept.stamp.mtime === stamp.mtime) {
      return kept.frame;
    }
    this.#drop(name);
    const frame = readFrame(path);
    if (!frame) {
      hooks.onCorrupt?.();
      return null;
    }
    if (this.#bytes + frame.data.byteLength <= this.budget) {
      this.#frames.set(name, { stamp, frame });
      this.#bytes += frame.data.byteLength;
    }
    return frame;
  }

  /**
   * Reads the listed files that fit in the budget into memory now, in play order, as the seed
   * did with its frames: the first loop then costs what every later one does, instead of a
   * disk read in each frame's wake-up for as long as the folder plays once (300 frames at 30
   * fps: the first 10 s). A damaged file is left for {@link frame} to skip and count.
   */
  preload(files: readonly string[]): void {
    for (const path of files) {
      if (this.#frames.has(nameOf(path))) continue;
      const stamp = stampOf(path);
      if (!stamp || this.#bytes + stamp.size > this.budget) {
        if (stamp) return;
        continue;
      }
      const frame = readFrame(path);
      if (!frame) continue;
      this.#frames.set(nameOf(path), { stamp, frame });
      this.#bytes += frame.data.byteLength;
    }
  }

  #drop(name: string): void {
    const kept = this.#frames.get(name);
    if (!kept) return;
    this.#frames.delete(name);
    this.#bytes -= kept.frame.data.byteLength;
  }
}

/** How {@link folderFrames} and {@link folderPush} keep their frames. */
export interface FolderOptions {
  /** Bytes of frames kept in memory (default {@link FOLDER_CACHE_BYTES}). */
  cacheBytes?: number;
  /** Watch the folder for changes (default true); false checks each file as it is played. */
  watch?: boolean;
}

/** Steps through the folder's files in order, looping: one file per tick of the pacing timer. */
class FolderPlayer {
  #files: string[] = [];
  #next = 0;
  #good = 0;

  constructor(
    readonly dir: string,
    readonly cache: FolderCache,
    readonly clock: Clock,
    readonly hooks: Pick<CaptureHooks, "onCorrupt">,
  ) {}

  /**
   * The next file's frame, or null for a damaged one (skipped and counted, its tick spent).
   * Throws `SourceError` once a whole pass over the folder found no readable JPEG.
   */
  step(): SourceFrame | null {
    if (this.#next >= this.#files.length) {
      // Each pass starts from a fresh listing: files added, removed or renamed take part.
      this.#files = this.cache.files();
      this.#next = 0;
      this.#good = 0;
    }
    const jpeg = this.cache.frame(this.#files[this.#next++], this.hooks);
    if (jpeg) this.#good++;
    if (this.#next >= this.#files.length && this.#good === 0) {
      throw new SourceError(`Folder ${this.dir} holds no readable JPEG`);
    }
    return jpeg ? { kind: "jpeg", ...jpeg, capturedAt: this.clock.now() } : null;
  }
}

/**
 * Opens the folder for playing: its cache, read ahead, and its watch, which stop when `signal`
 * aborts or `close()` is called.
 */
function openPlayer(
  dir: string,
  signal: AbortSignal,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt">,
  options: FolderOptions,
): { player: FolderPlayer; done: AbortSignal; close: () => void } {
  const cache = new FolderCache(dir, options.cacheBytes ?? FOLDER_CACHE_BYTES, clock);
  const done = new AbortController();
  const stop = () => done.abort();
  // An abort event is not sent again: a signal that has already fired is looked at here.
  if (signal.aborted) done.abort();
  else signal.addEventListener("abort", stop, { once: true });
  const close = () => {
    signal.removeEventListener("abort", stop);
    done.abort();
  };
  try {
    if (options.watch ?? true) cache.watch(done.signal);
    cache.preload(cache.files());
  } catch (err) {
    close();
    throw err;
  }
  return { player: new FolderPlayer(dir, cache, clock, hooks), done: done.signal, close };
}

/** Plays the folder at `fps`, looping, until `signal` aborts. */
export async function* folderFrames(
  dir: string,
  fps: number,
  signal: AbortSignal,
  clock: Clock,
  hooks: Pick<CaptureHooks, "onCorrupt"> = {},
  options: FolderOptions = {},
): AsyncGenerator<SourceFrame> {
  // The watch and the timer end with the generator, also when its consumer stops early.
  const { player, done, close } = openPlayer(dir, signal, clock, hooks, options);
  let wake: (() => void) | null = null;
  let ticks = 0;
  // One repeating timer paces the folder. Each tick is one frame; a consumer that falls behind
  // gets at most one frame of catching up, never a burst.
  clock.every(1000 / fps, () => {
    ticks = Math.min(ticks + 1, 2);
    wake?.();
  }, done);
  // Stopping wakes the loop like a tick (a race with a promise that never settles would add a
  // reaction to it for every frame).
  done.addEventListener("abort", () => wake?.(), { once: true });
  try {
    while (!done.aborted) {
      if (ticks === 0) {
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
      }
      if (done.aborted) return;
      ticks--;
      const frame = player.step();
      if (frame) yield frame;
    }
  } finally {
    close();
  }
}

/**
 * Plays the folder at `fps`, looping, calling `onFrame` with each frame from the pacing timer
 * itself. Resolves when `signal` aborts; rejects with `SourceError` when the folder holds no
 * readable JPEG (or with what `onFrame` threw).
 *
 * This is what the supervisor uses. An async generator costs a promise and several microtasks for
 * each frame on both sides, and a wake-up of the loop waiting in it: measured alone, a folder
 * played through {@link folderFrames} into the hub cost 12 ms/s of CPU at 30 fps, the same frames
 * pushed from the timer 9–10, and the timer alone 9.
 */
export function folderPush(
  dir: string,
  fps: number,
  signal: AbortSignal,
  clock: Clock,
  onFrame: (frame: SourceFrame) => void,
  hooks: Pick<CaptureHooks, "onCorrupt"> = {},
  options: FolderOptions = {},
): Promise<void> {
  let play: ReturnType<typeof openPlayer>;
  try {
    play = openPlayer(dir, signal, clock, hooks, options);
  } catch (err) {
    return Promise.reject(err);
  }
  const { player, done, close } = play;
  if (done.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    // A failure settles first; the stop it causes then resolves nothing.
    done.addEventListener("abort", () => resolve(), { once: true });
    clock.every(1000 / fps, () => {
      try {
        const frame = player.step();
        if (frame) onFrame(frame);
      } catch (err) {
        reject(err);
        close();
      }
    }, done);
  });
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
    // Read by tuchuan itself, the folder pushes its frames from its own timer (see folderPush).
    ...(plan.ffmpeg === null
      ? {
        push: (signal: AbortSignal, onFrame: (frame: SourceFrame) => void) =>
          folderPush(dir, fps, signal, ctx.clock, onFrame, ctx.hooks),
      }
      : {}),
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
