/**
 * Several cameras in one process (issue 11): each under `/NAME/`, the first also at the
 * top-level URLs of a single-camera server, `/` listing them, `/state` and `/metrics` covering
 * all (labelled), `/healthz` naming the one that is down, and one failing camera never stalling
 * another.
 *
 * @module
 */
import assert from "node:assert/strict";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { startServer } from "../src/server.ts";
import { fetchText, StreamWatcher, waitFor } from "./stream_helpers.ts";
import { makeJpeg } from "./test_utils.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** A folder of small JPEGs (64x48), as a second camera. */
async function jpegFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_cam_" });
  for (let i = 0; i < 5; i++) {
    await Deno.writeFile(`${dir}/f${i}.jpg`, await makeJpeg(64, 48, 0x204080ff + i * 0x100000));
  }
  return dir;
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("two cameras: each under /NAME/, the first at the top level, / lists both", async () => {
  const folder = await jpegFolder();
  const server = await startServer({
    port: 0,
    cameras: [
      { name: "nozzle", source: FIXTURE, options: {} },
      { name: "bed", source: folder, options: { fps: 20 } },
    ],
  });
  try {
    for (const [path, size] of [["nozzle/", "320x240"], ["bed/", "64x48"], ["", "320x240"]]) {
      const w = await StreamWatcher.open(`${server.url}${path}stream`);
      await w.waitForCount(2);
      const info = jpegInfo(w.recent[0].body)!;
      assert.equal(`${info.width}x${info.height}`, size, `/${path}stream`);
      await w.close();
      const snap = await fetch(`${server.url}${path}snapshot.jpg`);
      const snapInfo = jpegInfo(new Uint8Array(await snap.arrayBuffer()))!;
      assert.equal(`${snapInfo.width}x${snapInfo.height}`, size, `/${path}snapshot.jpg`);
    }
    const index = await fetchText(server.url);
    assert.match(index.text, /href="nozzle\/"/);
    assert.match(index.text, /<img src="bed\/stream\?fps=2"/);
    const viewer = await fetchText(`${server.url}bed/`);
    assert.match(viewer.text, /<img id="stream" src="stream"/);
    const redirect = await fetch(`${server.url}bed`, { redirect: "manual" });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/bed/");
    await redirect.body?.cancel();

    const state = JSON.parse((await fetchText(`${server.url}state`)).text);
    assert.deepEqual(state.cameras.map((c: { name: string }) => c.name), ["nozzle", "bed"]);
    const bed = JSON.parse((await fetchText(`${server.url}bed/state`)).text);
    assert.equal(bed.name, "bed");
    assert.equal(bed.source.kind, "folder");
    assert.equal(bed.encoder.path, "passthrough");
    const metrics = (await fetchText(`${server.url}metrics`)).text;
    assert.match(metrics, /^tuchuan_frames_published_total\{camera="nozzle"\} \d+$/m);
    assert.match(metrics, /^tuchuan_frames_published_total\{camera="bed"\} \d+$/m);
    // Server routes are not per camera.
    assert.equal((await fetchText(`${server.url}bed/metrics`)).status, 404);
    assert.equal((await fetchText(`${server.url}nosuch/stream`)).status, 404);
  } finally {
    await server.stop();
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a camera that is down shows in /healthz by name and never stalls the other", async () => {
  const server = await startServer({
    port: 0,
    alwaysOn: true,
    cameras: [
      { name: "good", source: FIXTURE, options: {} },
      { name: "gone", source: `http://127.0.0.1:${closedPort()}/stream`, options: {} },
    ],
  }, { timing: { initialBackoffMs: 100, maxBackoffMs: 200 } });
  try {
    // The bad camera can fail before the good one has its first frame: wait for both states.
    const health = await waitFor(async () => {
      const res = await fetchText(`${server.url}healthz`);
      const body = JSON.parse(res.text);
      return res.status === 503 && body.cameras.good.status !== "starting" ? body : null;
    }, "503 with the good camera past its start");
    assert.equal(health.status, "offline");
    assert.equal(health.cameras.good.status, "ok");
    assert.equal(health.cameras.gone.status, "offline");
    assert.match(health.reason, /^gone: /);
    // While the other camera fails and is retried again and again, the good one's stream has
    // no gap: its frames (a 10 fps recording) keep their capture times 100 ms apart.
    const restarts = async () =>
      JSON.parse((await fetchText(`${server.url}gone/state`)).text).restarts as number;
    const before = await restarts();
    const w = await StreamWatcher.open(`${server.url}good/stream`, { keep: 100 });
    await waitFor(async () => (await restarts()) >= before + 3, "three retries of the bad camera");
    await w.waitForCount(20);
    const stamps = w.recent.map((p) => Number(p.headers.get("x-timestamp")));
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
    assert.ok(
      Math.max(...gaps) < 0.5,
      `a gap of ${Math.max(...gaps).toFixed(2)} s in the good camera`,
    );
    await w.close();
  } finally {
    await server.stop();
  }
});
