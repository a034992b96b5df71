/**
 * Fresh snapshots (issue 11): `/snapshot.jpg?max_delay=MS` gives the newest frame only when it is
 * at most MS old, else waits for the next one (0: only one captured after the request), starts
 * capture when idle, and answers 503 with a reason when no frame comes in time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { systemClock } from "../src/core/clock.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import { startServer } from "../src/server.ts";
import { fetchText, getState, waitFor } from "./stream_helpers.ts";
import { makeJpeg, testSource } from "./test_utils.ts";

/** A source of one small JPEG every `periodMs`, counting the frames it was asked for. */
async function ticking(periodMs: number) {
  const jpeg = await makeJpeg(64, 48);
  let runs = 0;
  const source = testSource(async function* (signal): AsyncGenerator<SourceFrame> {
    runs++;
    while (!signal.aborted) {
      yield { kind: "jpeg", width: 64, height: 48, data: jpeg, capturedAt: systemClock.now() };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, periodMs);
        signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  });
  return { source, runs: () => runs };
}

/** The capture time of a snapshot answer, in ms. */
function stampOf(res: Response): number {
  return Number(res.headers.get("x-timestamp")) * 1000;
}

Deno.test("max_delay: the newest frame when it is young enough, else one captured after the request", async () => {
  const { source } = await ticking(400);
  const server = await startServer({ port: 0, alwaysOn: true }, { source });
  try {
    await waitFor(async () => (await getState(server.url)).frames.published >= 2, "frames");
    // Up to 400 ms old: a max_delay of a minute takes it as it is.
    const asked = systemClock.now();
    const any = await fetch(`${server.url}snapshot.jpg?max_delay=60000`);
    assert.equal(any.status, 200);
    await any.arrayBuffer();
    assert.ok(stampOf(any) <= asked, "it waited for a new frame though the last was young enough");
    // 0: only a frame captured after the request will do (the source ticks every 400 ms).
    for (let i = 0; i < 3; i++) {
      const askedFresh = systemClock.now();
      const fresh = await fetch(`${server.url}snapshot.jpg?max_delay=0`);
      assert.equal(fresh.status, 200);
      await fresh.arrayBuffer();
      assert.ok(stampOf(fresh) >= askedFresh, `a frame ${askedFresh - stampOf(fresh)} ms old`);
    }
    // The PNG variant and the old ?ago= still work.
    const png = await fetch(`${server.url}snapshot.png?max_delay=5000`);
    assert.equal(png.headers.get("content-type"), "image/png");
    await png.arrayBuffer();
    assert.equal((await fetchText(`${server.url}snapshot.jpg?ago=0`)).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("max_delay=0 while idle starts capture and answers with a fresh frame", async () => {
  const { source, runs } = await ticking(100);
  const server = await startServer({ port: 0, idleTimeout: 1 }, { source });
  try {
    assert.equal(runs(), 0);
    const asked = systemClock.now();
    const res = await fetch(`${server.url}snapshot.jpg?max_delay=0`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.equal(runs(), 1);
    assert.ok(stampOf(res) >= asked, "the frame is older than the request");
  } finally {
    await server.stop();
  }
});

Deno.test("max_delay with no frame coming: 503 with a reason, after a bounded wait; bad values 400", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const server = await startServer({ port: 0, source: `http://127.0.0.1:${port}/stream` });
  try {
    const res = await fetchText(`${server.url}snapshot.jpg?max_delay=0`);
    assert.equal(res.status, 503);
    const body = JSON.parse(res.text);
    assert.equal(body.param, "max_delay");
    assert.match(body.error, /No frame within 5 s/);
    for (const bad of ["-1", "abc", "0x10", "1.5"]) {
      const r = await fetchText(`${server.url}snapshot.jpg?max_delay=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(JSON.parse(r.text).param, "max_delay");
    }
  } finally {
    await server.stop();
  }
});
