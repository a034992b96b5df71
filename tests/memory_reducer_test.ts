import assert from "node:assert/strict";
import { MemoryReducer } from "../src/core/memory_reducer.ts";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import { spawnServer, waitFor } from "./stream_helpers.ts";
import { FakeClock } from "./test_utils.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

function reducer(clock: FakeClock, available = true) {
  const runs: { ms: number; departures: number }[] = [];
  let calls = 0;
  const r = new MemoryReducer({
    clock,
    quietMs: 250,
    minDepartures: 3,
    collect: () => {
      calls++;
      return available;
    },
    onCollect: (info) => runs.push(info),
  });
  return { r, runs, calls: () => calls };
}

Deno.test("memory reducer collects once the last of enough viewers has gone quiet", async () => {
  const clock = new FakeClock();
  const { r, runs } = reducer(clock);
  // Three viewers come and go in turn, as a churn of reconnecting clients does.
  for (let i = 0; i < 3; i++) {
    r.joined();
    r.left();
  }
  assert.equal(r.waiting, true);
  await clock.advance(249);
  assert.equal(runs.length, 0, "nothing before the quiet time");
  await clock.advance(1);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].departures, 3);
  assert.equal(r.waiting, false);
  assert.equal(clock.pending, 0, "no timer left behind");
});

Deno.test("memory reducer never pauses a viewer who is still watching", async () => {
  const clock = new FakeClock();
  const { r, calls } = reducer(clock);
  r.joined(); // stays
  for (let i = 0; i < 10; i++) {
    r.joined();
    r.left();
  }
  await clock.advance(10_000);
  assert.equal(calls(), 0);
  assert.equal(r.waiting, false);
});

Deno.test("memory reducer: a viewer arriving in the quiet time calls the collection off", async () => {
  const clock = new FakeClock();
  const { r, calls } = reducer(clock);
  for (let i = 0; i < 3; i++) {
    r.joined();
    r.left();
  }
  await clock.advance(100);
  r.joined();
  await clock.advance(150);
  assert.equal(r.waiting, false, "the timer found a viewer and ended");
  assert.equal(clock.pending, 0, "no timer left behind");
  await clock.advance(10_000);
  assert.equal(calls(), 0);
  // When that viewer leaves too, the departures still count: it collects then.
  r.left();
  await clock.advance(250);
  assert.equal(calls(), 1);
});

Deno.test("memory reducer waits out a churn of viewers with one timer, then collects", async () => {
  const clock = new FakeClock();
  const { r, runs } = reducer(clock);
  for (let i = 0; i < 3; i++) {
    r.joined();
    r.left();
  }
  // Viewers keep coming and going every 100 ms: each leaves nobody for a moment only.
  for (let t = 0; t < 1000; t += 100) {
    await clock.advance(50);
    r.joined();
    assert.ok(clock.pending <= 1, "never more than one timer");
    await clock.advance(50);
    r.left();
  }
  assert.equal(runs.length, 0, "not while they churn");
  await clock.advance(249);
  assert.equal(runs.length, 0, "the quiet time counts from the last departure");
  await clock.advance(1);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].departures, 13);
  assert.equal(clock.pending, 0);
});

Deno.test("memory reducer ignores a single viewer closing a tab", async () => {
  const clock = new FakeClock();
  const { r, calls } = reducer(clock);
  r.joined();
  r.left();
  await clock.advance(10_000);
  assert.equal(calls(), 0);
  assert.equal(r.waiting, false);
});

Deno.test("memory reducer counts departures again after each collection", async () => {
  const clock = new FakeClock();
  const { r, runs } = reducer(clock);
  for (let i = 0; i < 3; i++) {
    r.joined();
    r.left();
  }
  await clock.advance(250);
  r.joined();
  r.left();
  await clock.advance(10_000);
  assert.equal(runs.length, 1, "one departure since is not enough");
});

Deno.test("memory reducer stops trying when V8 offers no collector, and dispose clears its timer", async () => {
  const clock = new FakeClock();
  const { r, calls } = reducer(clock, false);
  for (let i = 0; i < 3; i++) {
    r.joined();
    r.left();
  }
  await clock.advance(250);
  assert.equal(calls(), 1);
  for (let i = 0; i < 5; i++) {
    r.joined();
    r.left();
  }
  assert.equal(r.waiting, false, "no timer once the collector is known to be missing");
  const other = reducer(clock).r;
  for (let i = 0; i < 3; i++) {
    other.joined();
    other.left();
  }
  assert.equal(other.waiting, true);
  other.dispose();
  assert.equal(other.waiting, false);
  assert.equal(clock.pending, 0);
  other.joined();
  other.left();
  assert.equal(other.waiting, false, "nothing scheduled after dispose");
});

/** One viewer: reads a single part of the stream, then hangs up. */
async function watchOnePart(base: string): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  try {
    const res = await fetch(`${base}stream`, { signal: ac.signal });
    assert.equal(res.status, 200);
    for await (const _ of readMultipart(res.body!, "tuchuanframe", { strict: true })) break;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

Deno.test("tuchuan gives memory back once a crowd of viewers has left, and only then", async () => {
  // The flags `make run`, the binary and the benchmark use; --expose-gc lets tuchuan collect.
  const server = await spawnServer(
    ["--source", FIXTURE, "--always-on", "--log-level", "debug"],
    { env: { DENO_V8_FLAGS: "--max-semi-space-size=2,--expose-gc" } },
  );
  const given = () => server.output().match(/Memory given back after \d+ viewers left/g) ?? [];
  try {
    // One viewer watches while 20 come and go: nobody is paused for a collection.
    const watcher = await fetch(`${server.url}stream`);
    const parts = readMultipart(watcher.body!, "tuchuanframe", { strict: true });
    await parts.next();
    for (let i = 0; i < 20; i++) await watchOnePart(server.url);
    // Five more parts at the fixture's 10 fps outlast the reducer's quiet time twice over.
    for (let i = 0; i < 5; i++) await parts.next();
    assert.deepEqual(given(), [], "no collection while a viewer watches");
    await parts.return(undefined);
    await waitFor(() => given().length === 1, "the collection after the last viewer left", 10_000, {
      details: () => server.output().slice(-2000),
    });
    assert.match(
      server.output(),
      /Memory given back after 21 viewers left: a full collection took/,
    );
  } finally {
    server.child.kill("SIGTERM");
    await server.status;
  }
});
