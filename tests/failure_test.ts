/**
 * Source failures (DESIGN §5): viewers stay connected through a crash or an unplugged input,
 * see the offline frame meanwhile, and get video again on the same connection once the source
 * is back; /state and /healthz say what happened; `--offline-image` replaces the NO SIGNAL card.
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import { fitOfflineImage } from "../src/image/offline_card.ts";
import { startServer } from "../src/server.ts";
import {
  fetchText,
  ffmpegPid,
  getState,
  isAlive,
  type Part,
  StreamWatcher,
  waitFor,
} from "./stream_helpers.ts";
import { requires } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/**
 * True when `jpeg` is the generated NO SIGNAL card: most of it is the card's dark grey
 * (0x202020) background, which no testsrc2 or testcard frame is.
 */
async function isNoSignal(jpeg: Uint8Array): Promise<boolean> {
  const img = await Image.decode(jpeg);
  const d = img.bitmap;
  let grey = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (
      Math.abs(d[i] - 0x20) < 10 && Math.abs(d[i + 1] - 0x20) < 10 && Math.abs(d[i + 2] - 0x20) < 10
    ) {
      grey++;
    }
  }
  return grey / (d.length / 4) > 0.6;
}

/** Classifies parts as "live" or "offline" and collapses runs: e.g. ["live","offline","live"]. */
async function phases(parts: Part[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of parts) {
    const phase = (await isNoSignal(p.body)) ? "offline" : "live";
    if (out.at(-1) !== phase) out.push(phase);
  }
  return out;
}

/** A TCP port on 127.0.0.1 with nothing listening (it was free a moment ago). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test(requires(["ffmpeg"], {
  name:
    "ffmpeg killed: viewer stays connected, sees NO SIGNAL, video resumes on the same connection",
  async fn() {
    const server = await startServer(
      { port: 0, source: "testsrc", size: { width: 160, height: 120 }, fps: 10, alwaysOn: true },
      // A longer first backoff than the default 0.5 s keeps the offline phase observable; the
      // default schedule itself is covered by supervisor_test.ts.
      { timing: { initialBackoffMs: 1500 } },
    );
    let watcher: StreamWatcher | null = null;
    try {
      watcher = await StreamWatcher.open(`${server.url}stream`, { keep: 400 });
      await watcher.waitForCount(3);
      const before = await getState(server.url);
      assert.equal(before.source.online, true);
      assert.equal((await fetchText(`${server.url}healthz`)).status, 200);
      const pid = ffmpegPid();
      assert.ok(pid, "no ffmpeg pid while capturing");

      Deno.kill(pid, "SIGKILL");

      const down = await waitFor(async () => {
        const s = await getState(server.url);
        return s.source.online ? null : s;
      }, "/state online:false");
      assert.match(down.source.reason, /ffmpeg|SIGKILL|killed|ended/i);
      const health = await fetchText(`${server.url}healthz`);
      assert.equal(health.status, 503);
      const body = JSON.parse(health.text);
      assert.equal(body.status, "offline");
      assert.match(body.reason, /ffmpeg|SIGKILL|killed|ended/i);
      // Frames keep arriving while offline: the NO SIGNAL card, resent every second.
      const atOffline = watcher.count;
      await watcher.waitForCount(atOffline + 2, 5000);

      // ffmpeg is restarted: a new process, and video on the very same connection.
      const newPid = await waitFor(() => {
        const p = ffmpegPid();
        return p && p !== pid ? p : null;
      }, "a new ffmpeg pid");
      assert.notEqual(newPid, pid);
      assert.equal(isAlive(pid), false, "the killed ffmpeg is still there");
      await waitFor(async () => (await getState(server.url)).source.online, "/state online:true");
      const atResume = watcher.count;
      await watcher.waitForCount(atResume + 5);
      assert.equal((await fetchText(`${server.url}healthz`)).status, 200);
      const after = await getState(server.url);
      assert.ok(after.restarts >= 1, "restart not counted");
      assert.equal(after.clients, 1);

      assert.equal(watcher.ended, false, "the viewer was disconnected");
      assert.equal(watcher.bad, 0, "a part was not a complete JPEG");
      assert.deepEqual(await phases(watcher.recent), ["live", "offline", "live"]);
    } finally {
      await watcher?.close();
      await server.stop();
    }
  },
}));

Deno.test("http source: upstream stops and comes back on the same port, downstream follows", async () => {
  const fixtureFrames = new Set<string>();
  {
    // The fixture's JPEGs: passthrough means downstream serves exactly these bytes.
    const up = await startServer({ port: 0, source: FIXTURE, alwaysOn: true });
    try {
      const w = await StreamWatcher.open(`${up.url}stream`, { keep: 64 });
      await w.waitForCount(31);
      for (const p of w.recent) fixtureFrames.add(hex(p.body));
      await w.close();
    } finally {
      await up.stop();
    }
  }
  let upstream = await startServer({ port: 0, source: FIXTURE, alwaysOn: true });
  const upPort = upstream.port;
  const downstream = await startServer(
    { port: 0, source: `http://127.0.0.1:${upPort}/stream`, alwaysOn: true, fps: 10 },
    // Short backoff so the test does not wait for 0.5, 1, 2, 4 s ... retries.
    { timing: { initialBackoffMs: 200, maxBackoffMs: 400 } },
  );
  let watcher: StreamWatcher | null = null;
  try {
    watcher = await StreamWatcher.open(`${downstream.url}stream`, { keep: 400 });
    await watcher.waitForCount(3);
    assert.ok(fixtureFrames.has(hex(watcher.recent.at(-1)!.body)), "downstream is not relaying");

    await upstream.stop();
    const down = await waitFor(async () => {
      const s = await getState(downstream.url);
      return s.source.online ? null : s;
    }, "downstream offline");
    assert.ok(down.source.reason.length > 0, "offline without a reason");
    assert.equal((await fetchText(`${downstream.url}healthz`)).status, 503);
    // While upstream is gone, restarts fail to connect and say so.
    await waitFor(
      async () => /refused|reach/i.test((await getState(downstream.url)).source.reason),
      "a connection error as the reason",
    );
    const atOffline = watcher.count;
    await watcher.waitForCount(atOffline + 1, 5000);

    upstream = await startServer({ port: upPort, source: FIXTURE, alwaysOn: true });
    await waitFor(async () => (await getState(downstream.url)).source.online, "downstream online");
    const atResume = watcher.count;
    await watcher.waitForCount(atResume + 5);
    assert.equal((await fetchText(`${downstream.url}healthz`)).status, 200);
    assert.ok(
      fixtureFrames.has(hex(watcher.recent.at(-1)!.body)),
      "after the upstream returned, the viewer does not get its frames",
    );
    assert.equal(watcher.ended, false);
    assert.equal(watcher.bad, 0);
    assert.deepEqual(await phases(watcher.recent), ["live", "offline", "live"]);
  } finally {
    await watcher?.close();
    await downstream.stop();
    await upstream.stop();
  }
});

Deno.test("--offline-image is what viewers receive while the source is down", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/offline.png`;
  // A solid magenta picture at a different aspect ratio than the stream.
  const picture = new Image(64, 64).fill(0xff00ffff);
  await Deno.writeFile(path, await picture.encode());
  const expected = await fitOfflineImage(await Deno.readFile(path), 160, 120);
  const server = await startServer({
    port: 0,
    // Nothing listens there: every attempt to connect fails.
    source: `http://127.0.0.1:${closedPort()}/stream`,
    size: { width: 160, height: 120 },
    offlineImage: path,
  });
  let watcher: StreamWatcher | null = null;
  try {
    watcher = await StreamWatcher.open(`${server.url}stream`);
    await watcher.waitForCount(1);
    const part = watcher.recent[0];
    assert.deepEqual(part.body, expected, "the viewer got something else than the offline image");
    const img = await Image.decode(part.body);
    assert.equal(img.width, 160);
    assert.equal(img.height, 120);
    const [r, g, b] = Image.colorToRGB(img.getPixelAt(80, 60));
    assert.ok(r > 200 && g < 60 && b > 200, `centre pixel is ${r},${g},${b}, not magenta`);
    const state = await getState(server.url);
    assert.equal(state.source.online, false);
    assert.match(state.source.reason, /refused|reach/i);
  } finally {
    await watcher?.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

function hex(bytes: Uint8Array): string {
  // Length plus a sample is enough to tell the fixture's frames apart cheaply.
  let h = `${bytes.byteLength}:`;
  for (let i = 0; i < bytes.byteLength; i += 97) h += bytes[i].toString(16);
  return h;
}
