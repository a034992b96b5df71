/**
 * The text overlay (`--overlay fps,time[,text=...]`): lines of bitmap-font text drawn straight
 * into an imagescript `Image`, each on a translucent dark box so it stays readable on any frame.
 *
 * This runs on every frame, inside the encoder's Web Workers, so it writes into `image.bitmap`
 * directly instead of going through `setPixelAt`, and touches only the pixels of the text box.
 *
 * @module
 */
import type { Image } from "imagescript";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from "./bitmap_font.ts";

/** What `--overlay` asks to draw on every frame. */
export interface OverlayOptions {
  /** The measured frames per second. */
  readonly fps: boolean;
  /** The wall-clock time. */
  readonly time: boolean;
  /** A fixed label. */
  readonly text?: string;
}

/** Options of {@link drawText}. */
export interface DrawTextOptions {
  /** Integer pixel size of one font pixel; default 1. */
  scale?: number;
  /** Text colour as `0xRRGGBBAA`; default opaque white. */
  color?: number;
  /** Box colour as `0xRRGGBBAA` behind the text, or `null` for none; default translucent black. */
  background?: number | null;
}

/** The size of a drawn (or measured) text box, in pixels. */
export interface TextSize {
  width: number;
  height: number;
}

/** What {@link overlayText} turns into lines; only the keys present are drawn. */
export interface OverlayItems {
  /** Frames per second to show; `null`, `undefined` or non-finite show `-- fps`. */
  fps?: number | null;
  /** Wall time to show (local time, to the second); `null` or `undefined` show a placeholder. */
  time?: Date | null;
  /** Free text (the `text=` of `--overlay`); skipped when empty. */
  text?: string;
}

/** Opaque white, the default text colour. */
const DEFAULT_COLOR = 0xffffffff;
/** Black at about 63% opacity: dark enough for white text on a white frame, and shows the scene. */
const DEFAULT_BACKGROUND = 0x000000a0;
/** Blank font columns between two glyphs, at scale 1. */
const LETTER_SPACING = 1;
/** Font pixels of box around the text on every side, at scale 1. */
const PADDING = 2;

/**
 * The integer text scale that keeps overlay text readable at a frame size: 1 at 320x240, 2 at
 * 640x480, 3 at 1280x720, 4 at 1920x1080. Narrow portrait frames get a smaller scale so a line
 * still fits across.
 *
 * @throws {RangeError} when `width` or `height` is not a positive integer.
 */
export function overlayScale(width: number, height: number): number {
  checkDimension("width", width);
  checkDimension("height", height);
  // 270 px of height per scale step; the width term is the height a 4:3 frame of that width has.
  return Math.max(1, Math.round(Math.min(height, (width * 3) / 4) / 270));
}

/**
 * The size of the box {@link drawText} draws for `text` at `scale`, padding included. Empty text
 * measures 0 x 0 (nothing is drawn for it).
 *
 * @throws {RangeError} when `scale` is not a positive integer.
 */
export function measureText(text: string, scale: number): TextSize {
  checkScale(scale);
  let chars = 0;
  // Count code points, not UTF-16 units, because drawText draws one glyph per code point.
  for (const _ of text) chars++;
  if (chars === 0) return { width: 0, height: 0 };
  const advance = GLYPH_WIDTH + LETTER_SPACING;
  return {
    width: (chars * advance - LETTER_SPACING + 2 * PADDING) * scale,
    height: (GLYPH_HEIGHT + 2 * PADDING) * scale,
  };
}

/**
 * Draws one line of `text` with its box's top-left corner at (`x`, `y`): first the background box
 * (blended over the frame), then the glyphs. Whatever falls outside the image is clipped, so text
 * may run off any edge. Characters outside printable ASCII are drawn as hollow boxes.
 *
 * @returns the size of the box, as {@link measureText} gives it (clipping does not change it).
 * @throws {RangeError} when `x` or `y` is not finite, `scale` is not a positive integer, or a
 *   colour is not a 32-bit `0xRRGGBBAA` number.
 */
export function drawText(
  image: Image,
  text: string,
  x: number,
  y: number,
  opts: DrawTextOptions = {},
): TextSize {
  if (!Number.isFinite(x)) throw new RangeError(`Text x must be a finite number, got ${x}`);
  if (!Number.isFinite(y)) throw new RangeError(`Text y must be a finite number, got ${y}`);
  const scale = opts.scale ?? 1;
  const color = opts.color ?? DEFAULT_COLOR;
  const background = opts.background === undefined ? DEFAULT_BACKGROUND : opts.background;
  checkColor("color", color);
  if (background !== null) checkColor("background", background);
  const size = measureText(text, scale);
  if (size.width === 0) return size;

  const left = Math.floor(x);
  const top = Math.floor(y);
  if (background !== null) fillRect(image, left, top, size.width, size.height, background);

  const pad = PADDING * scale;
  const advance = (GLYPH_WIDTH + LETTER_SPACING) * scale;
  let glyphX = left + pad;
  for (const ch of text) {
    // Glyphs wholly left or right of the frame are skipped without looking at their rows.
    if (glyphX >= image.width) break;
    if (glyphX + GLYPH_WIDTH * scale > 0) {
      drawGlyph(image, glyphRows(ch), glyphX, top + pad, scale, color);
    }
    glyphX += advance;
  }
  return size;
}

/**
 * The lines of the overlay, in the order fps, time, text, for the items present in `items`:
 * `"12.3 fps"` (one decimal), `"2026-11-25 21:53:31"` (local wall time), then the free text.
 *
 * @throws {RangeError} when `items.time` is an invalid Date.
 */
export function overlayText(items: OverlayItems): string[] {
  const lines: string[] = [];
  if ("fps" in items) {
    const fps = items.fps;
    lines.push(
      fps === null || fps === undefined || !Number.isFinite(fps)
        ? "-- fps"
        : `${fps.toFixed(1)} fps`,
    );
  }
  if ("time" in items) {
    lines.push(items.time ? formatWallTime(items.time) : "---------- --:--:--");
  }
  if (items.text) lines.push(items.text);
  return lines;
}

/**
 * `date` as local wall time to the second, `YYYY-MM-DD HH:MM:SS`.
 *
 * @throws {RangeError} when `date` is an invalid Date.
 */
export function formatWallTime(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError(`Invalid time: ${date}`);
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${String(date.getFullYear()).padStart(4, "0")}-${p2(date.getMonth() + 1)}-${
    p2(date.getDate())
  } ${p2(date.getHours())}:${p2(date.getMinutes())}:${p2(date.getSeconds())}`;
}

/**
 * Draws `lines` in the top-left corner of `image`, one under another, at the scale
 * {@link overlayScale} picks for the image's size. The boxes touch, forming one backdrop.
 */
export function drawOverlay(image: Image, lines: string[]): void {
  const scale = overlayScale(image.width, image.height);
  let y = 0;
  for (const line of lines) {
    if (y >= image.height) break;
    y += drawText(image, line, 0, y, { scale }).height;
  }
}

/** Blends `rgba` (`0xRRGGBBAA`) over the rectangle, clipped to the image. */
function fillRect(
  image: Image,
  x: number,
  y: number,
  width: number,
  height: number,
  rgba: number,
): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(image.width, x + width);
  const y1 = Math.min(image.height, y + height);
  if (x0 >= x1 || y0 >= y1) return;
  const r = rgba >>> 24;
  const g = (rgba >>> 16) & 0xff;
  const b = (rgba >>> 8) & 0xff;
  const a = rgba & 0xff;
  const data = image.bitmap;
  const stride = image.width * 4;
  if (a === 255) {
    for (let row = y0; row < y1; row++) {
      for (let i = row * stride + x0 * 4, end = row * stride + x1 * 4; i < end; i += 4) {
        data[i] = r;
        data[i + 1] = g;
        data[i + 2] = b;
        data[i + 3] = 255;
      }
    }
    return;
  }
  for (let row = y0; row < y1; row++) {
    for (let i = row * stride + x0 * 4, end = row * stride + x1 * 4; i < end; i += 4) {
      blendPixel(data, i, r, g, b, a);
    }
  }
}

/** Paints the lit pixels of one glyph as `scale` x `scale` squares, clipped to the image. */
function drawGlyph(
  image: Image,
  rows: readonly number[],
  x: number,
  y: number,
  scale: number,
  rgba: number,
): void {
  const r = rgba >>> 24;
  const g = (rgba >>> 16) & 0xff;
  const b = (rgba >>> 8) & 0xff;
  const a = rgba & 0xff;
  const data = image.bitmap;
  const w = image.width;
  const h = image.height;
  for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
    const bits = rows[gy];
    if (bits === 0) continue;
    const py0 = Math.max(0, y + gy * scale);
    const py1 = Math.min(h, y + (gy + 1) * scale);
    if (py0 >= py1) continue;
    for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
      if ((bits & (1 << (GLYPH_WIDTH - 1 - gx))) === 0) continue;
      const px0 = Math.max(0, x + gx * scale);
      const px1 = Math.min(w, x + (gx + 1) * scale);
      if (px0 >= px1) continue;
      for (let py = py0; py < py1; py++) {
        for (let i = (py * w + px0) * 4, end = (py * w + px1) * 4; i < end; i += 4) {
          if (a === 255) {
            data[i] = r;
            data[i + 1] = g;
            data[i + 2] = b;
            data[i + 3] = 255;
          } else {
            blendPixel(data, i, r, g, b, a);
          }
        }
      }
    }
  }
}

/** Straight-alpha "source over" of one colour onto the pixel at byte offset `i`. */
function blendPixel(
  data: Uint8ClampedArray,
  i: number,
  r: number,
  g: number,
  b: number,
  a: number,
): void {
  const da = data[i + 3];
  if (da === 255) {
    // Opaque frames (every camera frame) need no division: a plain lerp towards the colour.
    const k = a / 255;
    data[i] += (r - data[i]) * k;
    data[i + 1] += (g - data[i + 1]) * k;
    data[i + 2] += (b - data[i + 2]) * k;
    return;
  }
  const sa = a / 255;
  const dk = (da / 255) * (1 - sa);
  const oa = sa + dk;
  if (oa === 0) return;
  data[i] = (r * sa + data[i] * dk) / oa;
  data[i + 1] = (g * sa + data[i + 1] * dk) / oa;
  data[i + 2] = (b * sa + data[i + 2] * dk) / oa;
  data[i + 3] = oa * 255;
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Image ${name} must be a positive integer, got ${value}`);
  }
}

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`Text scale must be a positive integer, got ${scale}`);
  }
}

function checkColor(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Text ${name} must be a 0xRRGGBBAA number, got ${value}`);
  }
}
