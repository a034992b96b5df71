/**
 * Capture on demand (DESIGN §2): ffmpeg runs only while someone watches, stops
 * `--idle-timeout` seconds after the last viewer leaves, comes back fast for the next one, and
 * keeps running with `--always-on`. A snapshot while idle starts capture for it.
 */
import assert from "node:assert/strict";
import { systemClock } from "../src/core/clock.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { startServer } from "../src/server.ts";
import {
  fetchText,
  ffmpegPid,
  getState,
  isAlive,
  StreamWatcher,
  waitFor,
} from "./stream_helpers.ts";
import { requires } from "./tools.ts";

const TESTSRC = { port: 0, source: "testsrc", size: { width: 160, height: 120 }, fps: 10 };

/** `/healthz`'s status word. */
async function health(base: string): Promise<string> {
  return JSON.parse((await fetchText(`${base}healthz`)).text).status;
}

Deno.test(requires(["ffmpeg"], {
  name: "--idle-timeout 1: capture stops after the last viewer, restarts fast for the next",
  async fn() {
    const server = await startServer({ ...TESTSRC, idleTimeout: 1 });
    let watcher: StreamWatcher | null = null;
    try {
      // Nobody watches yet: nothing runs.
      let state = await getState(server.url);
      assert.equal(state.source.running, false);
      assert.equal(ffmpegPid(), null);
      assert.equal(await health(server.url), "idle");

      watcher = await StreamWatcher.open(`${server.url}stream`);
      await watcher.waitForCount(2);
      const pid = ffmpegPid();
      assert.ok(pid && isAlive(pid), "no ffmpeg while a viewer watches");
      await watcher.close();
      watcher = null;

      // /state says "not running" as soon as the stop begins; the pid clears once ffmpeg is gone.
      await waitFor(
        async () => !(await getState(server.url)).source.running && ffmpegPid() === null,
        "capture to stop",
      );
      await waitFor(() => !isAlive(pid), `ffmpeg ${pid} to exit`, 2000);
      state = await getState(server.url);
      assert.equal(state.clients, 0);
      assert.equal((await fetchText(`${server.url}healthz`)).status, 200);

      // The next viewer wakes capture; its first picture is one taken after it came, not the
      // last one from before the stop.
      // Read on the server's own clock, which stamps X-Timestamp: Date.now() drifts from the
      // monotonic clock behind it (19 ms apart after five minutes of the test run, seen in CI).
      const askedAt = systemClock.now();
      watcher = await StreamWatcher.open(`${server.url}stream`);
      await watcher.waitForCount(1, 5000);
      const stamp = Number(watcher.recent[0].headers.get("x-timestamp")) * 1000;
      assert.ok(
        stamp >= askedAt - 5,
        `first frame captured ${askedAt - stamp} ms before the viewer came`,
      );
      assert.notEqual(ffmpegPid(), pid);
      assert.equal(watcher.bad, 0);
    } finally {
      await watcher?.close();
      await server.stop();
    }
  },
}));

Deno.test(requires(["ffmpeg"], {
  name: "--always-on keeps ffmpeg running with no viewers",
  async fn() {
    const server = await startServer({ ...TESTSRC, idleTimeout: 1, alwaysOn: true });
    try {
      const pid = await waitFor(() => ffmpegPid(), "ffmpeg to start with no viewer");
      // 25 frames at 10 fps is 2.5 s: well past the 1 s idle timeout, with no viewer at all.
      await waitFor(
        async () => (await getState(server.url)).frames.captured >= 25,
        "25 frames",
        15_000,
      );
      const state = await getState(server.url);
      assert.equal(state.clients, 0);
      assert.equal(state.source.running, true);
      assert.equal(state.source.online, true);
      assert.equal(ffmpegPid(), pid, "ffmpeg was restarted or stopped");
      assert.ok(isAlive(pid));
      assert.equal(await health(server.url), "ok");
    } finally {
      await server.stop();
    }
  },
}));

Deno.test(requires(["ffmpeg"], {
  name: "/snapshot.jpg while idle starts capture and returns a JPEG",
  async fn() {
    const server = await startServer({ ...TESTSRC, idleTimeout: 1 });
    try {
      assert.equal((await getState(server.url)).source.running, false);
      const res = await fetch(`${server.url}snapshot.jpg`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/jpeg");
      const jpeg = new Uint8Array(await res.arrayBuffer());
      const info = jpegInfo(jpeg);
      assert.ok(info, "not a complete JPEG");
      assert.equal(info.width, 160);
      assert.equal(info.height, 120);
      // The snapshot's capture does not linger: it stops after the idle timeout too.
      await waitFor(
        async () => !(await getState(server.url)).source.running && ffmpegPid() === null,
        "capture to stop again",
      );
    } finally {
      await server.stop();
    }
  },
}));
