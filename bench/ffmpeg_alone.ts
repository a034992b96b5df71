/**
 * Runs one ffmpeg command alone (no tuchuan), reads its JPEGs from the pipe with the project's
 * splitter and throws them away, and measures what ffmpeg costs per frame and how soon the first
 * frame comes out: the bench for "which ffmpeg options make the camera path cheaper".
 *
 * @module
 */
import { JpegSplitter } from "../src/jpeg/jpeg_splitter.ts";
import { killTree, spawnTracked } from "./child_processes.ts";
import { cpuNsBetween, TreeSampler } from "./proc_stats.ts";
import { sleep } from "./scenario.ts";
import { paceLagMs, per1000Frames, summarize, type Summary } from "./stats.ts";

/** How long to run. */
export interface AloneOptions {
  /** From the first frame to the window start (ffmpeg's start-up and first seconds excluded). */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The input's frame rate, for the pacing lag. */
  readonly fps: number;
  /** Give up when no frame came within this long. */
  readonly firstFrameTimeoutMs?: number;
}

/** What one run measured. */
export interface AloneResult {
  readonly argv: string[];
  /** Frames inside the window. */
  readonly frames: number;
  readonly windowSeconds: number;
  /** ffmpeg's CPU inside the window (thread run times), seconds. */
  readonly cpuSeconds: number;
  readonly cpuPer1000Frames: number;
  /** Frames per second inside the window. */
  readonly fps: number;
  /** Spawn to the first whole JPEG on the pipe, ms. */
  readonly firstFrameMs: number;
  /** Arrival of each window frame relative to the pace of the first frame, ms. */
  readonly paceLagMs: Summary;
  readonly peakRssMb: number;
  readonly peakPssMb: number;
  /** Mean JPEG size in the window, bytes. */
  readonly meanFrameBytes: number;
}

/** Keeps the last lines of a stream (ffmpeg's stderr) without blocking the child. */
async function tail(stream: ReadableStream<Uint8Array>, sink: string[], keep = 8): Promise<void> {
  try {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      for (const line of text.split("\n")) {
        if (line.trim()) sink.push(line.trim().slice(0, 300));
      }
      if (sink.length > keep) sink.splice(0, sink.length - keep);
    }
  } catch {
    // The child died; what we have is what there is.
  }
}

/** Runs `ffmpeg argv` for warm-up plus window, then stops it. */
export async function runFfmpegAlone(argv: string[], opts: AloneOptions): Promise<AloneResult> {
  const t0 = performance.now();
  const child = spawnTracked("ffmpeg alone", "ffmpeg", argv);
  const sampler = new TreeSampler(child.pid);
  sampler.start();
  const stderr: string[] = [];
  const stderrDone = tail(child.stderr, stderr);
  const arrivals: number[] = [];
  let counting = false;
  let windowFrames = 0;
  let windowBytes = 0;
  let firstAt = NaN;
  const reading = (async () => {
    for await (const jpeg of child.stdout.pipeThrough(new JpegSplitter())) {
      const now = performance.now();
      if (Number.isNaN(firstAt)) firstAt = now;
      if (!counting) continue;
      windowFrames++;
      windowBytes += jpeg.length;
      arrivals.push(now);
    }
  })().catch(() => {});
  try {
    const deadline = t0 + (opts.firstFrameTimeoutMs ?? 10_000);
    while (Number.isNaN(firstAt)) {
      if (performance.now() > deadline) {
        throw new Error(`no frame within ${opts.firstFrameTimeoutMs ?? 10_000} ms`);
      }
      await sleep(5);
    }
    await sleep(opts.warmupMs);
    const cpu0 = sampler.preciseCpu();
    const w0 = performance.now();
    counting = true;
    await sleep(opts.durationMs);
    counting = false;
    const cpu1 = sampler.preciseCpu();
    const seconds = (performance.now() - w0) / 1000;
    sampler.sample({ pss: true });
    const cpuSeconds = cpuNsBetween(cpu0.ns, cpu1.ns) / 1e9;
    return {
      argv,
      frames: windowFrames,
      windowSeconds: seconds,
      cpuSeconds,
      cpuPer1000Frames: per1000Frames(cpuSeconds, windowFrames),
      fps: windowFrames / seconds,
      firstFrameMs: firstAt - t0,
      paceLagMs: summarize(paceLagMs(arrivals, opts.fps)),
      peakRssMb: sampler.peakKb / 1024,
      peakPssMb: sampler.peakPssKb / 1024,
      meanFrameBytes: windowFrames ? windowBytes / windowFrames : NaN,
    };
  } catch (err) {
    const last = stderr.at(-1);
    throw new Error(`${(err as Error).message}${last ? `; ffmpeg said: ${last}` : ""}`);
  } finally {
    sampler.stop();
    await killTree(child, 2000);
    await Promise.all([reading, stderrDone]);
  }
}

/** `argv` with `options` inserted before the input (`-i`): demuxer and input options. */
export function withInputOptions(argv: readonly string[], options: readonly string[]): string[] {
  const i = argv.indexOf("-i");
  if (i < 0) throw new TypeError(`ffmpeg arguments ${argv.join(" ")} have no -i`);
  return [...argv.slice(0, i), ...options, ...argv.slice(i)];
}

/** `argv` with `options` inserted before the output format (`-f` after `-i`): encoder options. */
export function withOutputOptions(argv: readonly string[], options: readonly string[]): string[] {
  const input = argv.indexOf("-i");
  const f = argv.indexOf("-f", input + 2);
  if (input < 0 || f < 0) throw new TypeError(`ffmpeg arguments ${argv.join(" ")} have no -f`);
  return [...argv.slice(0, f), ...options, ...argv.slice(f)];
}

/** `argv` with option `name`'s value kept and its name replaced (`-q:v 11` -> `-qscale 11`). */
export function renameOption(argv: readonly string[], name: string, to: string): string[] {
  const i = argv.indexOf(name);
  if (i < 0) throw new TypeError(`ffmpeg arguments ${argv.join(" ")} have no ${name}`);
  return argv.map((a, k) => (k === i ? to : a));
}

/** `argv` with option `name`'s value replaced. */
export function replaceValue(argv: readonly string[], name: string, value: string): string[] {
  const i = argv.indexOf(name);
  if (i < 0 || i + 1 >= argv.length) {
    throw new TypeError(`ffmpeg arguments ${argv.join(" ")} have no ${name} value`);
  }
  return argv.map((a, k) => (k === i + 1 ? value : a));
}
