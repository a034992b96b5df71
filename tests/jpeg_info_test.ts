import assert from "node:assert/strict";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { concat, makeJpeg } from "./test_utils.ts";

/** Index of the first marker `code` in the header part of `jpeg` (its 0xFF byte). */
function markerIndex(jpeg: Uint8Array, code: number): number {
  let pos = 2;
  while (pos < jpeg.length) {
    const marker = jpeg[pos + 1];
    if (marker === code) return pos;
    pos += 2 + ((jpeg[pos + 2] << 8) | jpeg[pos + 3]);
  }
  return -1;
}

Deno.test("jpegInfo reads the dimensions of JPEGs of several sizes", async () => {
  for (const [w, h] of [[1, 1], [16, 16], [33, 17], [17, 33], [320, 240]]) {
    assert.deepEqual(jpegInfo(await makeJpeg(w, h)), { width: w, height: h });
  }
});

Deno.test("jpegInfo returns null for every proper prefix of a JPEG", async () => {
  const jpeg = await makeJpeg(16, 16);
  for (let n = 0; n < jpeg.length; n++) {
    assert.equal(jpegInfo(jpeg.subarray(0, n)), null, `prefix of ${n} bytes`);
  }
  assert.deepEqual(jpegInfo(jpeg), { width: 16, height: 16 });
});

Deno.test("jpegInfo returns null for garbage", async () => {
  assert.equal(jpegInfo(new Uint8Array(0)), null);
  assert.equal(jpegInfo(new TextEncoder().encode("<html>not a jpeg</html>")), null);
  assert.equal(jpegInfo(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), null);
  assert.equal(jpegInfo(new Uint8Array(1000).fill(0xff)), null);
  // Deterministic pseudo-random bytes, with and without a JPEG's first and last markers.
  let seed = 42;
  const random = new Uint8Array(4096).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  assert.equal(jpegInfo(random), null);
  assert.equal(jpegInfo(concat([0xff, 0xd8], random, [0xff, 0xd9])), null);
  // Trailing bytes after the EOI.
  assert.equal(jpegInfo(concat(await makeJpeg(16, 16), [0x00])), null);
});

Deno.test("jpegInfo returns null without a frame header or with zero dimensions", async () => {
  const jpeg = await makeJpeg(16, 16);
  const sof = markerIndex(jpeg, 0xc0);
  assert.ok(sof > 0);
  const sofLength = 2 + ((jpeg[sof + 2] << 8) | jpeg[sof + 3]);
  const withoutSof = concat(jpeg.subarray(0, sof), jpeg.subarray(sof + sofLength));
  assert.equal(jpegInfo(withoutSof), null);

  const zeroWidth = jpeg.slice();
  zeroWidth[sof + 7] = 0;
  zeroWidth[sof + 8] = 0;
  assert.equal(jpegInfo(zeroWidth), null);
  const zeroHeight = jpeg.slice();
  zeroHeight[sof + 5] = 0;
  zeroHeight[sof + 6] = 0;
  assert.equal(jpegInfo(zeroHeight), null);

  // A segment length running past the end.
  const badLength = jpeg.slice();
  badLength[sof + 2] = 0xff;
  assert.equal(jpegInfo(badLength), null);
});

Deno.test("jpegInfo walks past an APP1 segment that contains an EOI", async () => {
  const jpeg = await makeJpeg(24, 8);
  const exif = [0xff, 0xe1, 0x00, 0x0c, 0x45, 0x78, 0x69, 0x66, 0, 0, 0xff, 0xd8, 0xff, 0xd9];
  assert.deepEqual(jpegInfo(concat(jpeg.subarray(0, 2), exif, jpeg.subarray(2))), {
    width: 24,
    height: 8,
  });
});

Deno.test("jpegInfo accepts a progressive frame header and fill bytes before markers", () => {
  const jpeg = concat(
    [0xff, 0xd8],
    [0xff, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x30, 0x00, 0x40, 0x01, 0x01, 0x11, 0x00],
    [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00],
    [0x12, 0xff, 0x00, 0x34],
    [0xff, 0xd9],
  );
  assert.deepEqual(jpegInfo(jpeg), { width: 0x40, height: 0x30 });
});
