import assert from "node:assert/strict";
import { Capture } from "../src/pipeline/capture.ts";
import { FrameHub } from "../src/pipeline/frame_hub.ts";
import type { Encoder } from "../src/pipeline/encoder.ts";
import type { OfflineLoop } from "../src/pipeline/offline_loop.ts";
import type { Publisher } from "../src/pipeline/publisher.ts";
import type { Supervisor } from "../src/pipeline/supervisor.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("an idle stop makes the hub's frames stale at once, not when ffmpeg has wound down", async () => {
  const hub = new FrameHub();
  hub.publish({ jpeg: new Uint8Array([1]), width: 1, height: 1, capturedAt: 0 });
  let running = true;
  const stopDone = Promise.withResolvers<void>();
  const supervisor = {
    get running() {
      return running;
    },
    start() {
      running = true;
    },
    stop() {
      running = false;
      return stopDone.promise; // the source takes its time to end
    },
  } as unknown as Supervisor;
  let closed = false;
  const capture = new Capture({
    supervisor,
    encoder: { stop() {} } as unknown as Encoder,
    publisher: { open() {}, close: () => closed = true } as unknown as Publisher,
    offline: { stop() {} } as unknown as OfflineLoop,
    hub,
    log: quiet,
    wanted: () => false,
    label: "test",
  });
  const idle = capture.idle();
  assert.equal(closed, true, "no frame is taken once the stop begins");
  assert.equal(hub.staleThrough, 1, "a viewer that comes during the stop waits for a fresh frame");
  stopDone.resolve();
  await idle;
  assert.equal(capture.running, false);
});
