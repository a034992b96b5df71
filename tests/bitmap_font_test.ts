import assert from "node:assert/strict";
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from "../src/image/bitmap_font.ts";

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));

Deno.test("every printable ASCII glyph has GLYPH_HEIGHT rows of GLYPH_WIDTH bits", () => {
  assert.equal(PRINTABLE.length, 95);
  for (const ch of PRINTABLE) {
    const rows = glyphRows(ch);
    assert.equal(rows.length, GLYPH_HEIGHT, `rows of ${JSON.stringify(ch)}`);
    for (const row of rows) {
      assert.ok(Number.isInteger(row) && row >= 0 && row < 1 << GLYPH_WIDTH, `row of ${ch}`);
    }
  }
});

Deno.test("every visible character has its own non-blank glyph, and space is blank", () => {
  assert.ok(glyphRows(" ").every((row) => row === 0));
  const seen = new Map<string, string>();
  for (const ch of PRINTABLE.slice(1)) {
    const key = glyphRows(ch).join(",");
    assert.ok(glyphRows(ch).some((row) => row !== 0), `${ch} is blank`);
    assert.equal(seen.get(key), undefined, `${ch} looks the same as ${seen.get(key)}`);
    seen.set(key, ch);
  }
});

Deno.test("glyphs have the expected shapes", () => {
  // T: a full top bar over a one-pixel stem in the middle column.
  assert.deepEqual(glyphRows("T").slice(0, 7), [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04]);
  // Minus: only the middle row.
  assert.deepEqual(glyphRows("-"), [0, 0, 0, 0x1f, 0, 0, 0, 0]);
  // Descenders use the last row; capitals never do.
  assert.notEqual(glyphRows("g")[GLYPH_HEIGHT - 1], 0);
  assert.notEqual(glyphRows("y")[GLYPH_HEIGHT - 1], 0);
  for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") {
    assert.equal(glyphRows(ch)[GLYPH_HEIGHT - 1], 0, ch);
  }
});

Deno.test("characters outside printable ASCII get one box glyph unlike any ASCII one", () => {
  const box = glyphRows("\u00e9");
  assert.equal(box.length, GLYPH_HEIGHT);
  assert.ok(box.some((row) => row !== 0));
  for (const ch of ["\n", "\t", "\x7f", "\u4e2d", "\u{1f4f7}"]) {
    assert.deepEqual(glyphRows(ch), box);
  }
  for (const ch of PRINTABLE) assert.notDeepEqual(glyphRows(ch), box, ch);
});

Deno.test("glyphRows rejects anything but exactly one character", () => {
  assert.throws(() => glyphRows(""), RangeError);
  assert.throws(() => glyphRows("ab"), RangeError);
  assert.throws(() => glyphRows("\u{1f4f7}x"), RangeError);
});
