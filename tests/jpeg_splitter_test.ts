import assert from "node:assert/strict";
import { JpegSplitter, type JpegSplitterOptions } from "../src/jpeg/jpeg_splitter.ts";
import { concat, makeJpeg as solidJpeg } from "./test_utils.ts";

/** A gradient row keeps the entropy data from being trivially short. */
const makeJpeg = (width: number, height: number, color: number) =>
  solidJpeg(width, height, color, { gradient: true });

/** Inserts an EXIF-like APP1 segment holding a thumbnail's SOI and EOI right after the SOI. */
function withExif(jpeg: Uint8Array): Uint8Array {
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, 0xff, 0xd8, 0x01, 0xff, 0x00, 0xff, 0xd9, 0x02];
  const length = payload.length + 2;
  return concat(
    jpeg.subarray(0, 2),
    [0xff, 0xe1, length >> 8, length & 0xff],
    payload,
    jpeg.subarray(2),
  );
}

/** Runs `chunks` through a splitter; returns the frames and the splitter for its counters. */
async function split(
  chunks: Uint8Array[],
  options?: JpegSplitterOptions,
): Promise<{ frames: Uint8Array[]; splitter: JpegSplitter }> {
  const splitter = new JpegSplitter(options);
  const frames: Uint8Array[] = [];
  const reading = (async () => {
    for await (const frame of splitter.readable) frames.push(frame);
  })();
  const writer = splitter.writable.getWriter();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
  await reading;
  return { frames, splitter };
}

function cutAt(bytes: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const bounds = [0, ...offsets, bytes.length];
  return bounds.slice(1).map((end, k) => bytes.slice(bounds[k], end));
}

const GARBAGE_BEFORE = [0x00, 0xff, 0x12, 0xff, 0xff, 0xd9, 0x41];
const GARBAGE_BETWEEN = [0x0d, 0x0a, 0xff];

async function fixtures() {
  const a = await makeJpeg(16, 16, 0xff0000ff);
  const b = withExif(await makeJpeg(16, 8, 0x00ff00ff));
  const c = await makeJpeg(8, 16, 0x0000ffff);
  return { a, b, c };
}

Deno.test("JpegSplitter yields two JPEGs with garbage around them, cut at every offset", async () => {
  const { a, b } = await fixtures();
  const input = concat(GARBAGE_BEFORE, a, GARBAGE_BETWEEN, b);
  const skipped = GARBAGE_BEFORE.length + GARBAGE_BETWEEN.length;
  for (let cut = 0; cut <= input.length; cut++) {
    const { frames, splitter } = await split(cutAt(input, cut));
    assert.deepEqual(frames, [a, b], `cut at ${cut}`);
    assert.equal(splitter.skippedBytes, skipped, `skipped bytes, cut at ${cut}`);
  }
});

Deno.test("JpegSplitter yields three JPEGs, cut at every offset and at two offsets", async () => {
  const { a, b, c } = await fixtures();
  const input = concat(GARBAGE_BEFORE, b, a, GARBAGE_BETWEEN, c, GARBAGE_BETWEEN);
  for (let cut = 0; cut <= input.length; cut++) {
    const { frames } = await split(cutAt(input, cut));
    assert.deepEqual(frames, [b, a, c], `cut at ${cut}`);
  }
  // Pairs of cuts, the first one every byte, the second a prime stride further on.
  for (let first = 0; first < input.length; first++) {
    const second = Math.min(input.length, first + 1 + ((first * 37) % 211));
    const { frames } = await split(cutAt(input, first, second));
    assert.deepEqual(frames, [b, a, c], `cuts at ${first} and ${second}`);
  }
});

Deno.test("JpegSplitter handles one-byte chunks", async () => {
  const { a, b, c } = await fixtures();
  const input = concat(GARBAGE_BEFORE, a, b, GARBAGE_BETWEEN, c);
  const chunks = Array.from(input, (byte) => new Uint8Array([byte]));
  const { frames, splitter } = await split(chunks);
  assert.deepEqual(frames, [a, b, c]);
  assert.equal(splitter.skippedBytes, GARBAGE_BEFORE.length + GARBAGE_BETWEEN.length);
  assert.equal(splitter.oversizedFrames, 0);
});

Deno.test("JpegSplitter does not end a frame at an EOI inside an APP1 segment", async () => {
  const { b } = await fixtures();
  const { frames } = await split([b]);
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0], b);
});

Deno.test("JpegSplitter follows the several scans of a progressive JPEG", async () => {
  const progressive = concat(
    [0xff, 0xd8],
    [0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00],
    [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00],
    [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0xff, 0xff, 0xd1],
    // A DHT segment between scans whose payload holds an EOI pattern.
    [0xff, 0xc4, 0x00, 0x06, 0xff, 0xd9, 0xff, 0xd9],
    [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00],
    [0x78, 0xff, 0x00],
    [0xff, 0xff, 0xd9],
  );
  const { a } = await fixtures();
  const input = concat(progressive, a);
  for (let cut = 0; cut <= input.length; cut++) {
    const { frames } = await split(cutAt(input, cut));
    assert.deepEqual(frames, [progressive, a], `cut at ${cut}`);
  }
});

Deno.test("JpegSplitter drops a frame cut short by a new SOI and counts its bytes", async () => {
  const { a, c } = await fixtures();
  const cutShort = a.subarray(0, a.length - 40);
  const headerOnly = a.subarray(0, 20);
  const input = concat(cutShort, headerOnly, c);
  for (let cut = 0; cut <= input.length; cut++) {
    const { frames, splitter } = await split(cutAt(input, cut));
    assert.deepEqual(frames, [c], `cut at ${cut}`);
    assert.equal(splitter.skippedBytes, cutShort.length + headerOnly.length, `cut at ${cut}`);
  }
});

Deno.test("JpegSplitter resynchronises after a corrupt marker", async () => {
  const { a, c } = await fixtures();
  // SOI then a byte that is not a marker: the frame is corrupt.
  const corrupt = [0xff, 0xd8, 0x00, 0x11, 0x22];
  const { frames, splitter } = await split([concat(corrupt, a, [0xff, 0xd8, 0xff, 0x00], c)]);
  assert.deepEqual(frames, [a, c]);
  assert.equal(splitter.skippedBytes, corrupt.length + 4);
});

Deno.test("JpegSplitter drops a trailing incomplete frame at the end of input", async () => {
  const { a, c } = await fixtures();
  const { frames, splitter } = await split([a, c.subarray(0, 100)]);
  assert.deepEqual(frames, [a]);
  assert.equal(splitter.skippedBytes, 100);
});

Deno.test("JpegSplitter drops and counts frames over the cap", async () => {
  const { a, b, c } = await fixtures();
  const maxFrameBytes = Math.max(a.length, c.length);
  assert.ok(b.length > maxFrameBytes);
  const input = concat(a, b, c, b, a);
  for (const chunkSize of [1, 7, 64, input.length]) {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += chunkSize) chunks.push(input.slice(i, i + chunkSize));
    const { frames, splitter } = await split(chunks, { maxFrameBytes });
    assert.deepEqual(frames, [a, c, a], `chunks of ${chunkSize}`);
    assert.equal(splitter.oversizedFrames, 2, `chunks of ${chunkSize}`);
    assert.equal(splitter.skippedBytes, 2 * b.length, `chunks of ${chunkSize}`);
  }
});

Deno.test("JpegSplitter keeps a frame exactly at the cap", async () => {
  const { a } = await fixtures();
  const { frames, splitter } = await split([a], { maxFrameBytes: a.length });
  assert.deepEqual(frames, [a]);
  assert.equal(splitter.oversizedFrames, 0);
});

Deno.test("JpegSplitter emits copies that do not alias the input", async () => {
  const { a } = await fixtures();
  const input = concat([0x00], a);
  const { frames } = await split([input]);
  input.fill(0);
  assert.deepEqual(frames, [a]);
});

Deno.test("JpegSplitter rejects a bad maxFrameBytes with a RangeError naming it", () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    assert.throws(() => new JpegSplitter({ maxFrameBytes: bad }), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, new RegExp(`Max frame bytes .*${bad}`));
      return true;
    });
  }
});
