/**
 * Turns and mirrors RGBA pixels for the imagescript path (`--rotate`/`--flip` on frames that are
 * decoded anyway, and PNG snapshots of a passed-through JPEG whose EXIF says how to show it).
 * ffmpeg turns the pixels itself on its paths; this is the same operation in plain code.
 *
 * @module
 */
import type { OrientationSteps } from "../core/orientation.ts";

/** Pixels and their size. */
export interface Pixels {
  readonly width: number;
  readonly height: number;
  /** `width * height * 4` bytes, RGBA, row-major. */
  readonly data: Uint8Array | Uint8ClampedArray;
}

/**
 * The pixels mirrored left-right (when `steps.mirror`) and then turned clockwise by
 * `steps.turn`, as a new buffer; the input is returned as it is when nothing changes.
 */
export function orientPixels(p: Pixels, steps: OrientationSteps): Pixels {
  if (!steps.mirror && steps.turn === 0) return p;
  const { width: w, height: h } = p;
  // One 32-bit word per pixel: four times fewer reads and writes than per byte.
  const aligned = p.data.byteOffset % 4 === 0 ? p.data : p.data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, w * h);
  const quarter = steps.turn === 90 || steps.turn === 270;
  const ow = quarter ? h : w;
  const oh = quarter ? w : h;
  const out = new Uint8Array(w * h * 4);
  const dst = new Uint32Array(out.buffer);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // (mx, y) is where the pixel sits after mirroring; then the turn moves it to (ox, oy).
      const mx = steps.mirror ? w - 1 - x : x;
      let ox: number;
      let oy: number;
      switch (steps.turn) {
        case 0:
          ox = mx;
          oy = y;
          break;
        case 90:
          ox = h - 1 - y;
          oy = mx;
          break;
        case 180:
          ox = w - 1 - mx;
          oy = h - 1 - y;
          break;
        default:
          ox = y;
          oy = w - 1 - mx;
      }
      dst[oy * ow + ox] = src[y * w + x];
    }
  }
  return { width: ow, height: oh, data: out };
}
