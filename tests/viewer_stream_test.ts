import assert from "node:assert/strict";
import { ViewerStream } from "../src/viewers/viewer_stream.ts";
import { FrameHub } from "../src/pipeline/frame_hub.ts";
import { FakeClock } from "./test_utils.ts";

/** Reads parts until the stream ends, counting them (a viewer that reads as fast as it can). */
function countParts(reader: ReadableStreamDefaultReader<Uint8Array>) {
  const counter = { count: 0, done: Promise.resolve() };
  counter.done = (async () => {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      counter.count++;
    }
  })();
  return counter;
}

const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
const frameOf = (n: number, size: number, at: number) => ({
  jpeg: new Uint8Array(size).fill(n),
  width: 1,
  height: 1,
  capturedAt: at,
});

Deno.test("a viewer gets the opening boundary at once, then the newest frame, and ends with the closing boundary", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  const stop = new AbortController();
  let closed = "";
  const client = new ViewerStream(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: stop.signal,
    onClose: (_c, why) => closed = why,
  });
  const reader = client.stream.getReader();
  assert.equal(text((await reader.read()).value!), "--tuchuanframe");
  hub.publish(frameOf(1, 3, clock.now()));
  hub.publish(frameOf(2, 4, clock.now()));
  const part = text((await reader.read()).value!);
  assert.match(part, /^\r\nContent-Type: image\/jpeg\r\nContent-Length: 4\r\n/);
  const pending = reader.read();
  stop.abort();
  assert.equal(text((await pending).value!), "--\r\n");
  assert.equal((await reader.read()).done, true);
  assert.equal(closed, "server stopping");
  assert.equal(hub.waiting, 0);
});

Deno.test("a viewer that leaves releases its wait on the hub at once", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  let closes = 0;
  const client = new ViewerStream(hub, {
    mode: "advance",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    onClose: () => closes++,
  });
  const reader = client.stream.getReader();
  await reader.read();
  const pending = reader.read();
  // The read reaches the hub a few promise reactions later (stream, body source, hub).
  for (let i = 0; i < 10 && hub.waiting === 0; i++) await Promise.resolve();
  assert.equal(hub.waiting, 1);
  await reader.cancel("gone");
  await pending;
  assert.equal(hub.waiting, 0);
  assert.equal(closes, 1);
  assert.equal(client.closed, true);
});

Deno.test("?fps caps a viewer: frames in between are skipped, not queued", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  const client = new ViewerStream(hub, {
    mode: "normal",
    maxFps: 2,
    clock,
    stopSignal: new AbortController().signal,
  });
  const reader = client.stream.getReader();
  await reader.read();
  const counter = countParts(reader);
  // 30 fps for 2 s.
  for (let i = 1; i <= 60; i++) {
    hub.publish(frameOf(i, 10, clock.now()));
    await clock.advance(1000 / 30);
  }
  const received = counter.count;
  assert.ok(received >= 4 && received <= 5, `received ${received} frames in 2 s at ?fps=2`);
  await reader.cancel();
  await counter.done;
});

Deno.test("a viewer that comes after capture stopped waits for a fresh frame, not the stale one", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  hub.publish(frameOf(1, 10, clock.now()));
  hub.markStale();
  const client = new ViewerStream(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
  });
  const reader = client.stream.getReader();
  await reader.read();
  let got: string | null = null;
  const next = reader.read().then((r) => got = text(r.value!));
  await clock.advance(100);
  assert.equal(got, null, "the viewer got the frame from before the stop");
  hub.publish(frameOf(2, 12, clock.now()));
  await next;
  assert.match(got!, /Content-Length: 12/);
  await reader.cancel();
});

/**
 * A "normal" viewer of `hub` whose kernel send queue reads `sendQueue()`, with its opening
 * boundary already read.
 */
async function queuedViewer(clock: FakeClock, hub: FrameHub, sendQueue: () => number) {
  const client = new ViewerStream(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    sendQueue,
  });
  const reader = client.stream.getReader();
  await reader.read();
  return { client, reader };
}

Deno.test("a lagging viewer waits until its send queue drains, then gets the newest frame", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  let queue = 0;
  const { client, reader } = await queuedViewer(clock, hub, () => queue);
  hub.publish(frameOf(1, 1000, clock.now()));
  assert.match(text((await reader.read()).value!), /Content-Length: 1000/);
  // The kernel still holds three frames for it: this viewer is behind.
  queue = 3500;
  const next = reader.read();
  for (let i = 2; i <= 10; i++) {
    hub.publish(frameOf(i, 1000 + i, clock.now()));
    await clock.advance(33);
  }
  assert.equal(client.lagging, true);
  let got = false;
  next.then(() => got = true);
  await clock.advance(200);
  assert.equal(got, false, "a frame went out while three were still queued");
  // Drained: the next frame sent is the newest one (11), not frame 2.
  hub.publish(frameOf(11, 1011, clock.now()));
  queue = 0;
  await clock.advance(60);
  assert.match(text((await next).value!), /Content-Length: 1011/);
  await reader.cancel();
});

Deno.test("a viewer with a frame or two in flight is never held back", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  // A fast reader on a real link: a frame on its way at any time.
  const { client, reader } = await queuedViewer(clock, hub, () => 1400);
  const counter = countParts(reader);
  for (let i = 1; i <= 30; i++) {
    hub.publish(frameOf(i, 1000, clock.now()));
    await clock.advance(33);
  }
  assert.equal(client.lagging, false);
  assert.ok(counter.count >= 29, `only ${counter.count} of 30 frames`);
  await reader.cancel();
  await counter.done;
});

Deno.test("while a lagging viewer drains, its send timeout counts from its last progress", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  let queue = 0;
  const { client, reader } = await queuedViewer(clock, hub, () => queue);
  hub.publish(frameOf(1, 1000, clock.now()));
  await reader.read();
  queue = 5000;
  const pending = reader.read();
  hub.publish(frameOf(2, 1000, clock.now()));
  await clock.advance(100);
  const stuck = client.pendingSince!;
  await clock.advance(1000);
  assert.equal(client.pendingSince, stuck, "no progress, yet the timeout restarted");
  queue = 4000;
  await clock.advance(100);
  assert.ok(client.pendingSince! > stuck, "progress did not count");
  queue = 0;
  await clock.advance(100);
  await pending;
  await reader.cancel();
});

Deno.test("a frame counts as written when the HTTP layer asks for the next chunk", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  const written: [number, number][] = [];
  const client = new ViewerStream(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    onWritten: (_v, frame, now) => written.push([frame.seq, now - frame.capturedAt]),
  });
  const reader = client.stream.getReader();
  await reader.read();
  hub.publish(frameOf(1, 3, clock.now()));
  await reader.read();
  assert.deepEqual(written, [], "not before the layer has taken it");
  await clock.advance(7);
  const pending = reader.read();
  for (let i = 0; i < 10 && written.length === 0; i++) await Promise.resolve();
  assert.deepEqual(written, [[1, 7]]);
  await reader.cancel();
  await pending;
});
