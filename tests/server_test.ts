import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { boundaryFromContentType, readMultipart } from "../src/multipart/multipart_reader.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { resolveSource } from "../src/source/open_source.ts";
import { childrenOf } from "./stream_helpers.ts";
import { requires } from "./tools.ts";

/** Reads `count` parts of /stream with the strict parser and checks each is a whole JPEG. */
async function strictParts(
  url: string,
  count: number,
): Promise<{ w: number; h: number; ts: number }[]> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const boundary = boundaryFromContentType(res.headers.get("content-type")!);
  const out = [];
  for await (const part of readMultipart(res.body!, boundary, { strict: true })) {
    assert.equal(part.headers.get("content-type"), "image/jpeg");
    assert.equal(Number(part.headers.get("content-length")), part.body.byteLength);
    const info = jpegInfo(part.body);
    assert.ok(info, "every part is a complete JPEG");
    out.push({ w: info.width, h: info.height, ts: Number(part.headers.get("x-timestamp")) });
    if (out.length === count) break;
  }
  return out;
}

Deno.test("replay fixture streams whole JPEGs of the recorded size through startServer", async () => {
  const server = await startServer({ port: 0, source: "fixtures/testcard.mjpeg" });
  try {
    const parts = await strictParts(`${server.url}stream`, 8);
    assert.ok(parts.every((p) => p.w === 320 && p.h === 240));
    for (let i = 1; i < parts.length; i++) assert.ok(parts[i].ts > parts[i - 1].ts);
    assert.equal(server.cameras[0].source.kind, "replay");
  } finally {
    await server.stop();
  }
});

for (const [w, h] of [[320, 240], [1920, 1080]]) {
  Deno.test(requires(["ffmpeg"], {
    name: `ffmpeg testsrc with --overlay fps,time goes through imagescript at ${w}x${h}`,
    async fn() {
      const server = await startServer({
        port: 0,
        source: "testsrc",
        size: { width: w, height: h },
        fps: 10,
        overlay: { fps: true, time: true },
        workers: 2,
      });
      try {
        assert.equal(server.cameras[0].planner.current?.path, "imagescript");
        const parts = await strictParts(`${server.url}stream`, 4);
        assert.ok(parts.every((p) => p.w === w && p.h === h));
        const state = await (await fetch(`${server.url}state`)).json();
        assert.equal(state.encoder.path, "imagescript");
        assert.ok(state.frames.published >= 4);
      } finally {
        await server.stop();
      }
    },
  }));
}

Deno.test("one tuchuan relays another's /stream untouched, reading it itself (no ffmpeg)", async () => {
  const upstream = await startServer({ port: 0, source: "fixtures/testcard.mjpeg" });
  const relay = await startServer({ port: 0, source: `${upstream.url}stream` });
  try {
    const parts = await strictParts(`${relay.url}stream`, 5);
    assert.ok(parts.every((p) => p.w === 320 && p.h === 240));
    const state = await (await fetch(`${relay.url}state`)).json();
    assert.equal(state.source.kind, "url");
    assert.equal(state.encoder.path, "passthrough");
    assert.match(state.encoder.reason, /reads them itself/);
    assert.deepEqual(childrenOf(Deno.pid).filter((c) => c.comm === "ffmpeg"), []);
  } finally {
    await relay.stop();
    await upstream.stop();
  }
});

Deno.test("auto picks /dev/video0, else testsrc with ffmpeg, else the bundled fixture", async () => {
  const cam = await resolveSource("auto", {
    exists: (p) => Promise.resolve(p === "/dev/video0" ? "other" : null),
    ffmpeg: () => Promise.resolve(true),
  });
  assert.equal(cam.kind, "v4l2");
  const test = await resolveSource("auto", {
    exists: () => Promise.resolve(null),
    ffmpeg: () => Promise.resolve(true),
  });
  assert.equal(test.kind, "testsrc");
  const fixture = await resolveSource("auto", {
    exists: () => Promise.resolve(null),
    ffmpeg: () => Promise.resolve(false),
  });
  assert.equal(fixture.kind, "replay");
  await assert.rejects(
    resolveSource("/no/such/thing.mp4"),
    (e: unknown) => e instanceof TypeError && /--source "\/no\/such\/thing.mp4"/.test(e.message),
  );
});
