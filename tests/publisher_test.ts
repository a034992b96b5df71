import assert from "node:assert/strict";
import { systemClock } from "../src/core/clock.ts";
import { Image } from "imagescript";
import { startServer } from "../src/server.ts";
import type { Source } from "../src/source/source.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import { FakeClock, testSource } from "./test_utils.ts";

const jpeg = await new Image(64, 48).fill(0x3366ccff).encodeJPEG(80);

/** A source that yields the same picture `count` times as fast as it is asked, then ends. */
function sameSource(count: number, done: PromiseWithResolvers<void>): Source {
  return testSource(async function* (signal: AbortSignal): AsyncGenerator<SourceFrame> {
    for (let i = 0; i < count && !signal.aborted; i++) {
      yield { kind: "jpeg", width: 64, height: 48, data: jpeg, capturedAt: systemClock.now() };
    }
    done.resolve();
    // Stay "online" without frames until stopped, so the watchdog does not interfere.
    await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
  });
}

for (const drop of [true, false]) {
  Deno.test(`--drop-same-frames ${drop ? "skips" : "off keeps"} byte-identical frames`, async () => {
    const done = Promise.withResolvers<void>();
    const server = await startServer(
      { port: 0, alwaysOn: true, dropSameFrames: drop },
      { source: sameSource(20, done) },
    );
    try {
      await done.promise;
      const state = await (await fetch(`${server.url}state`)).json();
      assert.equal(state.frames.captured, 20);
      if (drop) {
        // The first is sent; the rest are identical and arrived within a second.
        assert.equal(state.frames.published, 1);
        assert.equal(state.frames.dropped.same, 19);
      } else {
        assert.equal(state.frames.published, 20);
        assert.equal(state.frames.dropped.same, 0);
      }
    } finally {
      await server.stop();
    }
  });
}

Deno.test("--drop-same-frames still resends the unchanged picture once a second", async () => {
  const clock = new FakeClock();
  const source = testSource(async function* (signal: AbortSignal): AsyncGenerator<SourceFrame> {
    while (!signal.aborted) {
      yield { kind: "jpeg", width: 64, height: 48, data: jpeg, capturedAt: clock.now() };
      try {
        await clock.sleep(100, signal);
      } catch {
        return;
      }
    }
  });
  const server = await startServer({ port: 0, alwaysOn: true, dropSameFrames: true }, {
    source,
    clock,
  });
  try {
    // 3.05 s of identical frames at 10 fps.
    for (let i = 0; i < 30; i++) await clock.advance(100);
    await clock.advance(50);
    const state = await (await fetch(`${server.url}state`)).json();
    assert.ok(state.frames.captured >= 30);
    // One at t=0, then one each second: 4 in all.
    assert.equal(state.frames.published, 4);
  } finally {
    await server.stop();
  }
});
