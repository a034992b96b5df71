/**
 * The frame connected viewers see while the camera is down: a generated "NO SIGNAL" card with
 * the reason and the time, or the user's own picture (`--offline-image FILE`) fitted to the
 * stream. Both run in the image worker (imagescript), never on the main thread.
 *
 * @module
 */
import { Image, type JPEGQuality } from "imagescript";
import { GLYPH_HEIGHT, GLYPH_WIDTH } from "./bitmap_font.ts";
import { drawText, formatWallTime, measureText, overlayScale } from "./overlay.ts";

/** The `--offline-image` picture could not be decoded. */
export class OfflineImageError extends Error {
  /** @param message says why; @param options.cause is the underlying decode error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OfflineImageError";
  }
}

const BACKGROUND = 0x202020ff;
const TITLE_COLOR = 0xffffffff;
const REASON_COLOR = 0xd0d0d0ff;
const TIME_COLOR = 0x909090ff;
const TITLE = "NO SIGNAL";
/** Most lines of reason shown; the rest is cut, marked with "...". */
const MAX_REASON_LINES = 3;
/** JPEG quality of a loaded `--offline-image`: it is sent once a second, so size matters little. */
const OFFLINE_IMAGE_QUALITY = 85;

/**
 * Renders the "NO SIGNAL" card: a dark grey frame with a big centred "NO SIGNAL", the `reason`
 * under it (word-wrapped to the width, cut with "..." when too long) and `at` as local time.
 * Legible from 160x120 to 1920x1080.
 *
 * @throws {RangeError} when `width` or `height` is not a positive integer, or `at` is invalid.
 */
export function renderOfflineImage(width: number, height: number, reason: string, at: Date): Image {
  checkDimension("width", width);
  checkDimension("height", height);
  const time = formatWallTime(at);
  const image = new Image(width, height);
  image.fill(BACKGROUND);

  const small = overlayScale(width, height);
  // The title takes up to 70% of the width and a quarter of the height, but never less than the
  // small text, so it stays the headline even on tiny frames.
  const titleWidth = TITLE.length * (GLYPH_WIDTH + 1) - 1;
  const big = Math.max(
    small,
    Math.min(Math.floor((width * 0.7) / titleWidth), Math.floor((height * 0.25) / GLYPH_HEIGHT)),
  );
  const titleSize = measureText(TITLE, big);
  const lineHeight = measureText("X", small).height;

  // Leave room for the title and the time line; the reason gets what is left, up to 3 lines.
  const spare = height - titleSize.height - 2 * lineHeight;
  const maxLines = Math.max(0, Math.min(MAX_REASON_LINES, Math.floor(spare / lineHeight)));
  // One character of margin on each side keeps the reason off the frame's edges.
  const advance = (GLYPH_WIDTH + 1) * small;
  const charsPerLine = Math.max(1, Math.floor(width / advance) - 2);
  const reasonLines = wrapText(reason.trim(), charsPerLine, maxLines);

  const blockHeight = titleSize.height + (reasonLines.length + 2) * lineHeight;
  // Centre what is visible, not the boxes: the title's top padding and the time line's bottom
  // padding and descender row are blank, and at large title scales they differ a lot.
  const pad = (lineHeight / small - GLYPH_HEIGHT) / 2;
  const blankTop = pad * big;
  const blankBottom = (pad + 1) * small;
  let y = Math.max(
    -blankTop,
    Math.floor((height - (blockHeight - blankTop - blankBottom)) / 2) - blankTop,
  );
  const centred = (text: string, scale: number, color: number) => {
    const size = measureText(text, scale);
    drawText(image, text, Math.floor((width - size.width) / 2), y, {
      scale,
      color,
      background: null,
    });
    y += size.height;
  };
  centred(TITLE, big, TITLE_COLOR);
  for (const line of reasonLines) centred(line, small, REASON_COLOR);
  // A blank line between the reason and the time keeps them apart.
  y += lineHeight;
  centred(time, small, TIME_COLOR);
  return image;
}

/**
 * The "NO SIGNAL" card as JPEG bytes: {@link renderOfflineImage} encoded at `quality`.
 *
 * @throws {RangeError} for a bad size, an invalid `at`, or `quality` outside 1..100.
 */
export async function offlineJpeg(
  width: number,
  height: number,
  reason: string,
  at: Date,
  quality: number,
): Promise<Uint8Array> {
  checkQuality(quality);
  return await renderOfflineImage(width, height, reason, at).encodeJPEG(quality);
}

/**
 * Fits the `--offline-image` picture (PNG or JPEG bytes) into `width` x `height` keeping its
 * aspect ratio, centred on black, and returns it as JPEG bytes (quality 85).
 *
 * @throws {OfflineImageError} when the bytes are not a decodable image.
 * @throws {RangeError} when `width` or `height` is not a positive integer.
 */
export async function fitOfflineImage(
  bytes: Uint8Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  checkDimension("width", width);
  checkDimension("height", height);
  let picture: Image;
  try {
    const decoded = await Image.decode(bytes);
    if (!(decoded instanceof Image)) throw new TypeError("not a still image");
    picture = decoded;
  } catch (cause) {
    throw new OfflineImageError(
      `Cannot decode the offline image (expected PNG or JPEG): ${messageOf(cause)}`,
      { cause },
    );
  }
  const factor = Math.min(width / picture.width, height / picture.height);
  // Rounding (not imagescript's flooring) keeps an exact-aspect picture from losing a pixel row.
  const fitWidth = Math.min(width, Math.max(1, Math.round(picture.width * factor)));
  const fitHeight = Math.min(height, Math.max(1, Math.round(picture.height * factor)));
  if (fitWidth !== picture.width || fitHeight !== picture.height) {
    picture.resize(fitWidth, fitHeight);
  }
  const canvas = new Image(width, height);
  canvas.fill(0x000000ff);
  // Compositing blends, so a transparent PNG shows black where it is see-through.
  canvas.composite(
    picture,
    Math.floor((width - fitWidth) / 2),
    Math.floor((height - fitHeight) / 2),
  );
  return await canvas.encodeJPEG(OFFLINE_IMAGE_QUALITY);
}

/** Splits `text` into at most `maxLines` lines of at most `perLine` characters, on spaces. */
function wrapText(text: string, perLine: number, maxLines: number): string[] {
  if (maxLines === 0 || text === "") return [];
  const lines: string[] = [];
  let line = "";
  const chars = (s: string) => [...s].length;
  for (const word of text.split(/\s+/)) {
    let rest = word;
    // A word longer than a line is broken hard, so a long path or URL still shows.
    while (chars(rest) > perLine) {
      if (line !== "") {
        lines.push(line);
        line = "";
      }
      const cps = [...rest];
      lines.push(cps.slice(0, perLine).join(""));
      rest = cps.slice(perLine).join("");
    }
    if (line === "") line = rest;
    else if (chars(line) + 1 + chars(rest) <= perLine) line += " " + rest;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line !== "") lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = [...kept[maxLines - 1]];
  const room = Math.max(0, perLine - 3);
  kept[maxLines - 1] = last.slice(0, room).join("") + "...";
  return kept;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Offline frame ${name} must be a positive integer, got ${value}`);
  }
}

function checkQuality(quality: number): asserts quality is JPEGQuality {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`JPEG quality must be an integer from 1 to 100, got ${quality}`);
  }
}
