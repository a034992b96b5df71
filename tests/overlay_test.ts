import assert from "node:assert/strict";
import { Image } from "imagescript";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from "../src/image/bitmap_font.ts";
import {
  drawOverlay,
  drawText,
  formatWallTime,
  measureText,
  overlayScale,
  overlayText,
} from "../src/image/overlay.ts";

/**
 * An opaque image of varied mid-tone pixels: never black or white, so both the dark box and
 * white glyphs change every pixel they touch.
 */
function patterned(width: number, height: number): Image {
  const image = new Image(width, height);
  const data = image.bitmap;
  for (let i = 0; i < data.length; i += 4) {
    data[i] = 60 + ((i * 7) % 150);
    data[i + 1] = 60 + ((i * 13) % 150);
    data[i + 2] = 60 + ((i * 29) % 150);
    data[i + 3] = 255;
  }
  return image;
}

/** Bounding box of the pixels that differ between two images of the same size, or null. */
function changedBox(
  before: Image,
  after: Image,
): { x0: number; y0: number; x1: number; y1: number; count: number } | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, count = 0;
  const a = before.bitmap, b = after.bitmap;
  for (let i = 0; i < a.length; i += 4) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2] || a[i + 3] !== b[i + 3]) {
      const p = i / 4;
      const x = p % before.width, y = Math.floor(p / before.width);
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
      count++;
    }
  }
  return count === 0 ? null : { x0, y0, x1, y1, count };
}

/** Rows holding at least one pure white pixel: first and last. */
function whiteRows(image: Image): { first: number; last: number } {
  let first = -1, last = -1;
  const d = image.bitmap;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      if (d[i] === 255 && d[i + 1] === 255 && d[i + 2] === 255) {
        if (first < 0) first = y;
        last = y;
        break;
      }
    }
  }
  return { first, last };
}

function litPixels(text: string): number {
  let n = 0;
  for (const ch of text) {
    for (const row of glyphRows(ch)) for (let b = row; b; b >>= 1) n += b & 1;
  }
  return n;
}

Deno.test("overlayScale grows with the frame so text stays readable", () => {
  assert.equal(overlayScale(160, 120), 1);
  assert.equal(overlayScale(320, 240), 1);
  assert.equal(overlayScale(640, 480), 2);
  assert.equal(overlayScale(1280, 720), 3);
  assert.equal(overlayScale(1920, 1080), 4);
  // A narrow portrait frame keeps a small scale so lines still fit across it.
  assert.equal(overlayScale(240, 1080), 1);
  assert.throws(() => overlayScale(0, 240), RangeError);
  assert.throws(() => overlayScale(320, 2.5), RangeError);
});

Deno.test("measureText is linear in characters and scale, and empty text measures nothing", () => {
  const one = measureText("a", 1);
  const two = measureText("ab", 1);
  const advance = two.width - one.width;
  assert.equal(advance, GLYPH_WIDTH + 1);
  assert.equal(measureText("abcdefghij", 1).width, one.width + 9 * advance);
  assert.ok(one.height > GLYPH_HEIGHT);
  assert.deepEqual(measureText("12.3 fps", 4), {
    width: measureText("12.3 fps", 1).width * 4,
    height: measureText("12.3 fps", 1).height * 4,
  });
  // One glyph per code point: an emoji is one (box) glyph, not two.
  assert.deepEqual(measureText("\u{1f4f7}", 1), one);
  assert.deepEqual(measureText("", 3), { width: 0, height: 0 });
  assert.throws(() => measureText("a", 0), RangeError);
  assert.throws(() => measureText("a", 1.5), RangeError);
});

Deno.test("drawText changes pixels only inside the measured box, and fills it", () => {
  for (const scale of [1, 3]) {
    const before = patterned(320, 240);
    const after = before.clone();
    const size = drawText(after, "Hi 12:34 (ok)", 37, 21, { scale });
    assert.deepEqual(size, measureText("Hi 12:34 (ok)", scale));
    const box = changedBox(before, after);
    assert.ok(box);
    // The translucent background covers the whole box, so the changed area is exactly the box.
    assert.deepEqual([box.x0, box.y0, box.x1, box.y1], [
      37,
      21,
      37 + size.width - 1,
      21 + size.height - 1,
    ]);
  }
});

Deno.test("drawText paints glyphs in the text colour over a darker box", () => {
  const image = new Image(200, 50);
  image.fill(0xffffffff);
  const size = drawText(image, "A", 10, 10, { scale: 2, color: 0xff0000ff });
  // Padding corner: white darkened by the translucent box, but the frame still shows through.
  const [r, g, b, a] = image.getRGBAAt(11, 11);
  assert.ok(r < 200 && r > 20 && r === g && g === b, `background ${r},${g},${b}`);
  assert.equal(a, 255);
  let red = 0;
  for (let y = 10; y < 10 + size.height; y++) {
    for (let x = 10; x < 10 + size.width; x++) {
      const [pr, pg, pb] = image.getRGBAAt(x + 1, y + 1);
      if (pr === 255 && pg === 0 && pb === 0) red++;
    }
  }
  assert.equal(red, litPixels("A") * 4);
});

Deno.test("drawText without background changes only the glyph pixels", () => {
  const before = patterned(120, 40);
  const after = before.clone();
  drawText(after, "fps: 9.5", 3, 4, { scale: 2, background: null });
  assert.equal(changedBox(before, after)?.count, litPixels("fps: 9.5") * 4);
});

Deno.test("text at 1920x1080 is four times as tall as at 320x240", () => {
  const heights = [[320, 240], [1920, 1080]].map(([w, h]) => {
    const image = new Image(w, h);
    image.fill(0x000000ff);
    drawOverlay(image, ["EH"]);
    const rows = whiteRows(image);
    return rows.last - rows.first + 1;
  });
  // E and H are seven font pixels tall.
  assert.equal(heights[0], 7);
  assert.equal(heights[1], 28);
});

Deno.test("text running off any edge is clipped, never thrown", () => {
  const before = patterned(64, 48);
  const positions: [number, number][] = [[-20, -7], [50, 40], [-1000, 10], [10, 1000], [
    63.7,
    47.2,
  ], [-5.5, 30]];
  for (const [x, y] of positions) {
    const after = before.clone();
    drawText(after, "overflowing line of text", x, y, { scale: 3 });
    assert.equal(after.width, 64);
    assert.equal(after.bitmap.length, 64 * 48 * 4);
  }
  const partly = before.clone();
  drawText(partly, "clip", -10, -10, { scale: 2 });
  const box = changedBox(before, partly);
  assert.ok(box);
  assert.deepEqual([box.x0, box.y0], [0, 0]);
  const outside = before.clone();
  drawText(outside, "gone", 64, 0, { scale: 2 });
  drawText(outside, "gone", 0, -measureText("gone", 2).height, { scale: 2 });
  assert.equal(changedBox(before, outside), null);
});

Deno.test("drawText rejects bad positions, scales and colours", () => {
  const image = new Image(10, 10);
  assert.throws(() => drawText(image, "x", NaN, 0), RangeError);
  assert.throws(() => drawText(image, "x", 0, Infinity), RangeError);
  assert.throws(() => drawText(image, "x", 0, 0, { scale: 0 }), RangeError);
  assert.throws(() => drawText(image, "x", 0, 0, { color: -1 }), RangeError);
  assert.throws(() => drawText(image, "x", 0, 0, { background: 2 ** 32 }), RangeError);
});

Deno.test("overlayText formats fps with one decimal and time to the second", () => {
  const at = new Date(2026, 10, 25, 21, 53, 31, 987);
  assert.deepEqual(overlayText({ fps: 12.345, time: at, text: "Lab cam" }), [
    "12.3 fps",
    "2026-11-25 21:53:31",
    "Lab cam",
  ]);
  assert.deepEqual(overlayText({ fps: 30 }), ["30.0 fps"]);
  assert.deepEqual(overlayText({ fps: null }), ["-- fps"]);
  assert.deepEqual(overlayText({ fps: undefined }), ["-- fps"]);
  assert.deepEqual(overlayText({ fps: NaN }), ["-- fps"]);
  assert.deepEqual(overlayText({ time: new Date(2026, 0, 5, 3, 4, 5) }), ["2026-01-05 03:04:05"]);
  assert.deepEqual(overlayText({ time: null }), ["---------- --:--:--"]);
  assert.deepEqual(overlayText({ text: "only this" }), ["only this"]);
  assert.deepEqual(overlayText({ text: "" }), []);
  assert.deepEqual(overlayText({}), []);
  assert.throws(() => overlayText({ time: new Date(NaN) }), RangeError);
  assert.throws(() => formatWallTime(new Date("nope")), RangeError);
});

Deno.test("drawOverlay stacks lines in the top-left corner", () => {
  const before = patterned(640, 480);
  const after = before.clone();
  const lines = ["12.3 fps", "2026-11-25 21:53:31", "x"];
  drawOverlay(after, lines);
  const scale = overlayScale(640, 480);
  const sizes = lines.map((line) => measureText(line, scale));
  const box = changedBox(before, after);
  assert.ok(box);
  assert.deepEqual([box.x0, box.y0], [0, 0]);
  assert.equal(box.x1, Math.max(...sizes.map((s) => s.width)) - 1);
  assert.equal(box.y1, sizes.reduce((sum, s) => sum + s.height, 0) - 1);
  // Right of the short last line the frame is untouched: each line has its own box.
  const lastTop = sizes[0].height + sizes[1].height;
  const [r, g, b] = after.getRGBAAt(sizes[2].width + 5, lastTop + 3);
  assert.deepEqual([r, g, b], [...before.getRGBAAt(sizes[2].width + 5, lastTop + 3)].slice(0, 3));
});

Deno.test("drawOverlay with no lines leaves the frame alone", () => {
  const before = patterned(32, 24);
  const after = before.clone();
  drawOverlay(after, []);
  assert.equal(changedBox(before, after), null);
});
