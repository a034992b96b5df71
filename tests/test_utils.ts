/**
 * Helpers shared by the tests: a manual clock, test JPEGs and test sources.
 *
 * @module
 */
import type { Clock } from "../src/core/clock.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import type { SourceOffer } from "../src/plan/encode_plan.ts";
import { type RecordedPart, recordingParts, sniffBoundary } from "../src/source/replay_source.ts";
import type { Source } from "../src/source/source.ts";

/** A clock that only moves when the test calls `advance()`. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];

  /** Starts at `start` milliseconds since the epoch. */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** Current fake time. */
  now(): number {
    return this.#now;
  }

  /** Resolves when `advance()` moves the clock past `now() + ms`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer = { at: this.#now + ms, resolve, reject };
      this.#timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Calls `tick` every `periodMs` of fake time until `signal` aborts. */
  every(periodMs: number, tick: () => void, signal: AbortSignal): void {
    const loop = async () => {
      while (!signal.aborted) {
        await this.sleep(periodMs, signal);
        tick();
      }
    };
    loop().catch(() => {});
  }

  /** Number of sleeps waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, resolving due sleeps in order and letting their callbacks run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = next.at;
      next.resolve();
      // Let the woken task run up to its next await.
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.#now = target;
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}

/** A solid-colour JPEG made with imagescript (optionally with a gradient row, for entropy). */
export async function makeJpeg(
  width: number,
  height: number,
  color = 0x3366ccff,
  options: { gradient?: boolean } = {},
): Promise<Uint8Array> {
  const { Image } = await import("imagescript");
  const image = new Image(width, height);
  image.fill(color);
  if (options.gradient) {
    for (let x = 1; x <= width; x++) image.setPixelAt(x, 1, 0xff000000 + x * 8);
  }
  return await image.encodeJPEG(70);
}

/** Joins byte arrays, number lists and (latin-1 safe) strings into one Uint8Array. */
export function concat(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const enc = new TextEncoder();
  const arrays = parts.map((p) =>
    p instanceof Uint8Array ? p : typeof p === "string" ? enc.encode(p) : new Uint8Array(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/**
 * Kills `child` with SIGKILL if it is still running after `ms` (a test must never hang on an
 * external tool). Returns the function that cancels the timer; `timedOut()` tells whether it
 * fired.
 */
export function killAfter(
  child: Deno.ChildProcess,
  ms: number,
): { cancel: () => void; timedOut: () => boolean } {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, ms);
  return { cancel: () => clearTimeout(timer), timedOut: () => fired };
}

/** What a test source offers by default: JPEGs tuchuan reads itself (as a recording does). */
export const JPEG_OFFER: SourceOffer = Object.freeze({
  jpeg: true,
  native: true,
  ffmpegCanRead: false,
  size: null,
  fps: null,
  cameraFlip: false,
  mode: "test frames",
  notes: [],
});

/** A Source around a frames function, for startServer's `deps.source`. */
export function testSource(
  frames: Source["frames"],
  input = "test",
  offer: SourceOffer = JPEG_OFFER,
): Source {
  return { kind: "replay", input, offer, facts: () => ({ mode: offer.mode }), frames };
}

/** Every part of a recording, read from disk. */
export async function readRecording(path: string | URL): Promise<RecordedPart[]> {
  const file = await Deno.open(path);
  const head = new Uint8Array(256);
  const n = (await file.read(head)) ?? 0;
  await file.seek(0, Deno.SeekMode.Start);
  const parts: RecordedPart[] = [];
  for await (
    const part of recordingParts(file.readable, sniffBoundary(head.subarray(0, n))!, "test")
  ) {
    parts.push(part);
  }
  return parts;
}

/** The whole JPEGs of a recording as frames, at `fps`, looped until `signal` aborts. */
export async function* loopFrames(
  parts: readonly RecordedPart[],
  signal: AbortSignal,
  clock: Clock,
  fps: number,
): AsyncGenerator<SourceFrame> {
  const jpegs = parts.filter((p) => p.jpeg);
  for (let i = 0; !signal.aborted; i++) {
    try {
      await clock.sleep(1000 / fps, signal);
    } catch {
      return;
    }
    const p = jpegs[i % jpegs.length];
    yield {
      kind: "jpeg",
      width: p.width,
      height: p.height,
      data: p.jpeg!,
      capturedAt: clock.now(),
    };
  }
}
