import assert from "node:assert/strict";
import { Image } from "imagescript";
import { EncoderPool } from "../src/image/encoder_pool.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import type { RgbaFrame } from "../src/core/frame.ts";

const rgba = (w: number, h: number, at: number): RgbaFrame => ({
  kind: "rgba",
  width: w,
  height: h,
  data: new Uint8Array(w * h * 4).fill(at % 255),
  capturedAt: at,
});

Deno.test("the pool encodes with the overlay, keeps submission order and drops (never queues) when busy", async () => {
  const results: number[] = [];
  const drops: string[] = [];
  const done = Promise.withResolvers<void>();
  let sizes: { w: number; h: number } | null = null;
  const pool = new EncoderPool({
    size: 2,
    onResult: (r, at) => {
      results.push(at);
      sizes = jpegInfo(r.jpeg) ? { w: r.width, h: r.height } : null;
      if (results.length === 2) done.resolve();
    },
    onDrop: (reason) => drops.push(reason),
  });
  try {
    const frame1 = rgba(320, 240, 1);
    assert.equal(pool.submit({ frame: frame1, quality: 70, lines: ["1.0 fps"] }), true);
    // Transferred, not copied: the source's buffer is now detached.
    assert.equal(frame1.data.byteLength, 0);
    assert.equal(pool.submit({ frame: rgba(320, 240, 2), quality: 70, lines: [] }), true);
    assert.equal(pool.submit({ frame: rgba(320, 240, 3), quality: 70, lines: [] }), false);
    assert.deepEqual(drops, ["busy"]);
    await done.promise;
    assert.deepEqual(results, [1, 2]);
    assert.deepEqual(sizes, { w: 320, h: 240 });
  } finally {
    pool.close();
  }
});

Deno.test("the overlay is drawn into the encoded frame", async () => {
  const got: Uint8Array[] = [];
  const done = Promise.withResolvers<void>();
  const pool = new EncoderPool({
    size: 1,
    onResult: (r) => {
      got.push(r.jpeg);
      done.resolve();
    },
  });
  try {
    pool.submit({ frame: rgba(320, 240, 0), quality: 90, lines: ["12.3 fps"] });
    await done.promise;
    const image = await Image.decode(got[0]) as Image;
    // The frame was black; the overlay's white text must show up in the top-left corner.
    let bright = 0;
    for (let y = 1; y <= 20; y++) {
      for (let x = 1; x <= 60; x++) if ((image.getPixelAt(x, y) >>> 24) > 200) bright++;
    }
    assert.ok(bright > 20, `only ${bright} bright pixels where the overlay should be`);
  } finally {
    pool.close();
  }
});
