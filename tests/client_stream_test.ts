import assert from "node:assert/strict";
import { StreamClient } from "../src/http/client_stream.ts";
import { FrameHub } from "../src/frame_hub.ts";
import type { BacklogSample } from "../src/socket_backlog.ts";
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
  const client = new StreamClient(hub, {
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
  const client = new StreamClient(hub, {
    mode: "advance",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    onClose: () => closes++,
  });
  const reader = client.stream.getReader();
  await reader.read();
  const pending = reader.read();
  await Promise.resolve();
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
  const client = new StreamClient(hub, {
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

Deno.test("a lagging viewer waits until its send queue drains, then gets the newest frame", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  let queue = 0;
  let sampledAt = clock.now();
  const sample = (bytes: number) => {
    queue = bytes;
    sampledAt = clock.now();
  };
  const client = new StreamClient(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    backlog: { get: (): BacklogSample => ({ bytes: queue, sampledAt }), intervalMs: 50 },
  });
  const reader = client.stream.getReader();
  await reader.read();
  hub.publish(frameOf(1, 1000, clock.now()));
  const first = text((await reader.read()).value!);
  assert.match(first, /Content-Length: 1000/);
  // The kernel reports three frames queued: this viewer is behind.
  await clock.advance(10);
  sample(3500);
  const next = reader.read();
  for (let i = 2; i <= 10; i++) {
    hub.publish(frameOf(i, 1000 + i, clock.now()));
    await clock.advance(33);
  }
  assert.equal(client.lagging, true);
  // Still queued: nothing more was sent.
  let got = false;
  next.then(() => got = true);
  await clock.advance(100);
  assert.equal(got, false);
  // Drained: the next frame sent is the newest one (10), not frame 2.
  hub.publish(frameOf(11, 1011, clock.now()));
  sample(0);
  await clock.advance(60);
  const after = text((await next).value!);
  assert.match(after, /Content-Length: 1011/);
  await reader.cancel();
});

Deno.test("a lagging viewer that keeps up again for 3 s is paced no more", async () => {
  const clock = new FakeClock();
  const hub = new FrameHub();
  let queue = 0;
  let fresh = false;
  let sampledAt = clock.now();
  const client = new StreamClient(hub, {
    mode: "normal",
    maxFps: null,
    clock,
    stopSignal: new AbortController().signal,
    backlog: {
      // Once `fresh`, a sampler reading every 50 ms finds the queue empty: the viewer drains
      // each frame within a reading, though it still waits for a reading newer than its send.
      get: (): BacklogSample => ({
        bytes: queue,
        sampledAt: fresh ? Math.floor(clock.now() / 50) * 50 : sampledAt,
      }),
      intervalMs: 50,
    },
  });
  const reader = client.stream.getReader();
  await reader.read();
  const counter = countParts(reader);
  hub.publish(frameOf(1, 1000, clock.now()));
  // Let the frame go out before time moves, so the reading below is newer than the send.
  await clock.advance(0);
  await clock.advance(10);
  queue = 3500;
  sampledAt = clock.now();
  hub.publish(frameOf(2, 1000, clock.now()));
  await clock.advance(10);
  assert.equal(client.lagging, true);
  queue = 0;
  fresh = true;
  for (let i = 3; i < 3 + 120; i++) {
    hub.publish(frameOf(i, 1000, clock.now()));
    await clock.advance(33);
  }
  assert.equal(client.lagging, false);
  const received = counter.count;
  assert.ok(received > 60, `only ${received} frames while recovering`);
  await reader.cancel();
  await counter.done;
});
