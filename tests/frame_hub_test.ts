import assert from "node:assert/strict";
import { FrameHub, HISTORY_STEP_MS, HubClosedError } from "../src/pipeline/frame_hub.ts";
import type { EncodedFrame } from "../src/core/frame.ts";

const input = (n: number, at = n * 100) => ({
  jpeg: new Uint8Array([n]),
  width: 1,
  height: 1,
  capturedAt: at,
});

/** A client that takes every frame it can, the way a fast viewer's pull() loop does. */
async function collect(hub: FrameHub, count: number, signal?: AbortSignal): Promise<number[]> {
  const seen: number[] = [];
  let seq = 0;
  while (seen.length < count) {
    const f = await hub.next(seq, signal);
    seq = f.seq;
    seen.push(f.seq);
  }
  return seen;
}

for (const clients of [2, 20]) {
  Deno.test(`${clients} clients each get every frame (no client steals another's)`, async () => {
    const hub = new FrameHub();
    const readers = Array.from({ length: clients }, () => collect(hub, 10));
    for (let i = 1; i <= 10; i++) {
      await Promise.resolve(); // let every reader re-arm, as each client's next pull() would
      await Promise.resolve();
      hub.publish(input(i));
    }
    const results = await Promise.all(readers);
    for (const r of results) assert.deepEqual(r, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
}

Deno.test("a new client gets the newest frame at once", async () => {
  const hub = new FrameHub();
  hub.publish(input(1));
  hub.publish(input(2));
  const f = await hub.next(0);
  assert.equal(f.seq, 2);
});

Deno.test("a slow client skips to the newest frame instead of building a backlog", async () => {
  const hub = new FrameHub();
  const first = await (async () => {
    const p = hub.next(0);
    hub.publish(input(1));
    return await p;
  })();
  for (let i = 2; i <= 50; i++) hub.publish(input(i));
  const next = await hub.next(first.seq);
  assert.equal(next.seq, 50);
  assert.equal(hub.waiting, 0);
});

Deno.test("an aborted wait releases the waiter", async () => {
  const hub = new FrameHub();
  const ac = new AbortController();
  const p = hub.next(0, ac.signal);
  assert.equal(hub.waiting, 1);
  ac.abort(new Error("left"));
  await assert.rejects(p, /left/);
  assert.equal(hub.waiting, 0);
});

Deno.test("close rejects waiters and refuses new ones", async () => {
  const hub = new FrameHub();
  const p = hub.next(0);
  hub.close();
  await assert.rejects(p, HubClosedError);
  await assert.rejects(hub.next(0), HubClosedError);
});

Deno.test("frameAgo reaches back through the bounded history ring", () => {
  const hub = new FrameHub({ historyMs: 1000, historyMax: 100 });
  let last: EncodedFrame | null = null;
  for (let i = 1; i <= 40; i++) last = hub.publish(input(i, i * 100));
  assert.equal(hub.frameAgo(0, 4000), last);
  // The ring keeps a frame every 250 ms or more (here: every 300 ms, at 100, 400, ... 3700):
  // the answer is the newest kept one at least that old, at most one step older than asked.
  for (const ago of [500, 1000, 1500]) {
    const at = hub.frameAgo(ago, 4000)!.capturedAt;
    assert.ok(at <= 4000 - ago && at > 4000 - ago - HISTORY_STEP_MS - 100, `ago ${ago}: ${at}`);
  }
  // Older than the ring keeps (1 s + one second of slack): nothing.
  assert.equal(hub.frameAgo(3000, 4000), null);
  assert.ok(hub.historyBytes <= 10, `${hub.historyBytes} bytes of history`);
});

Deno.test("history never holds more than historyMax frames", () => {
  const hub = new FrameHub({ historyMs: 60_000, historyMax: 5 });
  for (let i = 1; i <= 100; i++) hub.publish(input(i, i * HISTORY_STEP_MS));
  assert.equal(hub.historyBytes, 5);
});
