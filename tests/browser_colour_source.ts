/**
 * A test source for the browser tests: solid-colour JPEG frames from a palette, one every
 * `intervalMs`, each recorded with the wall time it was handed to the camera. The server writes
 * a passthrough JPEG to every viewer as soon as it has it, so that time is when the frame was
 * written, and a browser's painted colour tells which frame it shows: "on screen N ms after it
 * was written" needs nothing but the colour and the clock (browser and test share this
 * machine's clock).
 *
 * @module
 */
import { Image } from "imagescript";
import type { JpegFrame } from "../src/core/frame.ts";
import type { Source } from "../src/source/source.ts";
import type { Rgb } from "./browser_drivers.ts";
import { JPEG_OFFER } from "./test_utils.ts";

/** Eight colours far apart, so that a decoded JPEG's colour names its palette entry. */
export const PALETTE: readonly Rgb[] = [
  [230, 30, 30],
  [30, 200, 40],
  [40, 60, 230],
  [240, 220, 30],
  [220, 40, 220],
  [30, 210, 220],
  [245, 245, 245],
  [245, 140, 20],
];

/** Frame size of the test frames. */
export const FRAME_SIZE = { width: 320, height: 240 } as const;

/** Encodes one solid-colour {@link FRAME_SIZE} JPEG per palette entry. */
export async function colourJpegs(palette: readonly Rgb[] = PALETTE): Promise<Uint8Array[]> {
  return await Promise.all(palette.map(async ([r, g, b]) => {
    const img = new Image(FRAME_SIZE.width, FRAME_SIZE.height).fill(
      Image.rgbaToColor(r, g, b, 255),
    );
    return await img.encodeJPEG(90);
  }));
}

/**
 * The palette index of `colour`, or -1 when it is none of them (the page's background, a
 * half-drawn frame). JPEG and colour management move a channel by a few units, not by 40.
 */
export function paletteIndex(colour: readonly number[], palette: readonly Rgb[] = PALETTE): number {
  let best = -1;
  let bestDistance = Infinity;
  palette.forEach(([r, g, b], i) => {
    const d = (colour[0] - r) ** 2 + (colour[1] - g) ** 2 + (colour[2] - b) ** 2;
    if (d < bestDistance) [best, bestDistance] = [i, d];
  });
  return bestDistance < 40 ** 2 ? best : -1;
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Solid-colour frames cycling through a palette, one every `intervalMs`, recording when each
 * was yielded (across restarts: the index keeps counting, so frame `i` has colour
 * `i % palette length`).
 */
export class ColourSource implements Source {
  readonly kind = "replay" as const;
  readonly input = "colour test frames";
  readonly offer = JPEG_OFFER;
  /** Frame index and wall time (ms) of every frame yielded. */
  readonly yielded: { index: number; at: number }[] = [];

  /** @param jpegs from {@link colourJpegs}; @param intervalMs time between frames */
  constructor(readonly jpegs: readonly Uint8Array[], readonly intervalMs: number) {}

  /** The palette index frame `index` shows. */
  colourOf(index: number): number {
    return index % this.jpegs.length;
  }

  /** For `/state`. */
  facts(): { mode: string } {
    return { mode: "colour test frames" };
  }

  /** Yields a frame every `intervalMs` until `signal` aborts. */
  async *frames(signal: AbortSignal): AsyncIterable<JpegFrame> {
    while (!signal.aborted) {
      const index = this.yielded.length;
      const at = Date.now();
      this.yielded.push({ index, at });
      yield {
        kind: "jpeg",
        ...FRAME_SIZE,
        data: this.jpegs[this.colourOf(index)],
        capturedAt: at,
      };
      await pause(this.intervalMs, signal);
    }
  }
}
