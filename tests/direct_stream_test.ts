import assert from "node:assert/strict";
import { type DirectSource, DirectStream } from "../src/net/direct_stream.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A source of the given chunks, then the end; records cancels. */
function sourceOf(chunks: string[]): DirectSource & { cancels: unknown[]; asked: number } {
  const left = [...chunks];
  const src = {
    cancels: [] as unknown[],
    asked: 0,
    next: () => {
      src.asked++;
      const c = left.shift();
      return Promise.resolve(c === undefined ? null : enc.encode(c));
    },
    cancel: (reason?: unknown) => {
      src.cancels.push(reason);
    },
  };
  return src;
}

Deno.test("read as a stream, a direct body gives its chunks, pulled one at a time, then ends", async () => {
  const src = sourceOf(["a", "b"]);
  const stream = new DirectStream(src);
  assert.equal(src.asked, 0, "nothing is asked before a read (no queue ahead of the reader)");
  assert.equal(await new Response(stream).text(), "ab");
  assert.equal(src.asked, 3);
});

Deno.test("a server takes the source whole; then nobody else can read it", async () => {
  const src = sourceOf(["x"]);
  const stream = new DirectStream(src);
  const taken = stream.take(() => {});
  assert.equal(taken, src);
  assert.equal(stream.locked, true);
  assert.equal(stream.take(() => {}), null, "taken once only");
  assert.equal(dec.decode((await taken!.next())!), "x");
});

Deno.test("a stream already being read is not taken", () => {
  const stream = new DirectStream(sourceOf(["x"]));
  stream.getReader();
  assert.equal(stream.take(() => {}), null);
});

Deno.test("fail() errs a reader, or tells the server that took the body", async () => {
  const read = new DirectStream({ next: () => new Promise(() => {}), cancel: () => {} });
  const reader = read.getReader();
  const pending = reader.read();
  read.fail(new Error("send timeout"));
  await assert.rejects(pending, /send timeout/);

  const taken = new DirectStream(sourceOf([]));
  const told: Error[] = [];
  taken.take((err) => told.push(err));
  taken.fail(new Error("cut off"));
  taken.fail(new Error("twice"));
  assert.deepEqual(told.map((e) => e.message), ["cut off"]);

  const early = new DirectStream(sourceOf([]));
  early.fail(new Error("before"));
  const late: string[] = [];
  early.take((err) => late.push(err.message));
  assert.deepEqual(late, ["before"], "a failure before the take is told at the take");
});

Deno.test("cancelling the stream cancels the source with the reason", async () => {
  const src = sourceOf(["a"]);
  const stream = new DirectStream(src);
  await stream.cancel("viewer left");
  assert.deepEqual(src.cancels, ["viewer left"]);
});
