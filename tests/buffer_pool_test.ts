import assert from "node:assert/strict";
import { BufferPool } from "../src/core/buffer_pool.ts";
import { EncoderPool } from "../src/image/encoder_pool.ts";

Deno.test("BufferPool hands back recycled buffers of the right size and keeps at most max", () => {
  const pool = new BufferPool(2);
  const a = pool.take(16);
  pool.give(a);
  assert.equal(pool.take(16), a);
  pool.give(new Uint8Array(8));
  assert.equal(pool.take(16).byteLength, 16, "a buffer of another size is not reused");
  for (let i = 0; i < 5; i++) pool.give(new Uint8Array(16));
  assert.equal(pool.size, 2);
  // A buffer transferred to a worker is empty: it is not kept, even when there is room.
  const roomy = new BufferPool(4);
  const detached = new Uint8Array(16);
  structuredClone(detached.buffer, { transfer: [detached.buffer] });
  roomy.give(detached);
  assert.equal(roomy.size, 0);
  roomy.give(new Uint8Array(16));
  assert.equal(roomy.size, 1);
});

Deno.test("encode workers hand the raw frame's buffer back for reuse", async () => {
  const back = Promise.withResolvers<Uint8Array>();
  const pool = new EncoderPool({
    size: 1,
    onResult: () => {},
    recycle: (pixels) => back.resolve(pixels),
  });
  try {
    const data = new Uint8Array(64 * 48 * 4).fill(200);
    pool.submit({
      frame: { kind: "rgba", width: 64, height: 48, data, capturedAt: 0 },
      quality: 70,
      lines: [],
    });
    const pixels = await back.promise;
    assert.equal(pixels.byteLength, 64 * 48 * 4);
    assert.equal(pixels[0], 200);
  } finally {
    pool.close();
  }
});
