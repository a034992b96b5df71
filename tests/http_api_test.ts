/**
 * The HTTP API as a client sees it: `/stream` framing read with the strict parser, advance
 * headers for Chromium `<img>`, the closing boundary on shutdown, fan-out without stolen frames,
 * per-viewer `?fps=`, errors, snapshots (PNG, ETag/304, `?ago=`), `/state` and pause/resume.
 *
 * Most tests use the bundled fixture replayed at a fixed rate through `deps.source`, wrapped so
 * the test knows the capture time of every frame the server published.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import type { Config } from "../src/config/config.ts";
import { systemClock } from "../src/core/clock.ts";
import type { SourceFrame } from "../src/core/frame.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import {
  boundaryFromContentType,
  type MultipartPart,
  readMultipart,
} from "../src/multipart/multipart_reader.ts";
import { type RunningServer, startServer } from "../src/server.ts";
import type { Source } from "../src/source/source.ts";
import { loopFrames, readRecording, testSource } from "./test_utils.ts";
import { requires } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url);
const FRAMES = await readRecording(FIXTURE);
const BOUNDARY = "tuchuanframe";
const enc = new TextEncoder();
const dec = new TextDecoder();
/** What a Chromium `<img src=/stream>` request carries. */
const CHROMIUM_IMG: Record<string, string> = {
  "Sec-Fetch-Dest": "image",
  "Sec-CH-UA": '"Chromium";v="156", "Not/A)Brand";v="24"',
  "User-Agent":
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
  "Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
};
const CURL: Record<string, string> = { "User-Agent": "curl/8.5.0", "Accept": "*/*" };
const ADVANCE_BLOCK = enc.encode(`\r\n--${BOUNDARY}\r\nContent-Type: image/jpeg\r\n\r\n`);
const OPEN_ADVANCE = ADVANCE_BLOCK.subarray(2);

/** The fixture replayed at `fps`; `published` lists the X-Timestamp of every frame yielded. */
function replaySource(fps: number): { source: Source; published: string[] } {
  const published: string[] = [];
  const source: Source = testSource(async function* (signal): AsyncGenerator<SourceFrame> {
    for await (const frame of loopFrames(FRAMES, signal, systemClock, fps)) {
      published.push((frame.capturedAt / 1000).toFixed(6));
      yield frame;
    }
  }, "testcard.mjpeg");
  return { source, published };
}

/** Starts a server over a fast replay; `body` gets it and the list of published timestamps. */
async function withReplay(
  fps: number,
  options: Partial<Config>,
  body: (server: RunningServer, published: string[]) => Promise<void>,
): Promise<void> {
  const { source, published } = replaySource(fps);
  const server = await startServer(
    { port: 0, host: "127.0.0.1", workers: 1, ...options },
    { source },
  );
  try {
    await body(server, published);
  } finally {
    await server.stop();
  }
}

/**
 * Reads up to `max` parts of a stream with the strict parser; stops early (without error) when
 * `signal` aborts. Returns the response too, for its headers.
 */
async function readParts(
  url: string,
  opts: { headers?: Record<string, string>; max: number; signal?: AbortSignal },
): Promise<{ res: Response; parts: MultipartPart[] }> {
  const res = await fetch(url, { headers: opts.headers, signal: opts.signal });
  if (res.status !== 200) {
    const text = await res.text();
    throw new Error(`GET ${url}: ${res.status} ${text}`);
  }
  const boundary = boundaryFromContentType(res.headers.get("content-type") ?? "");
  const parts: MultipartPart[] = [];
  try {
    for await (const part of readMultipart(res.body!, boundary, { strict: true })) {
      parts.push(part);
      if (parts.length >= opts.max) break;
    }
  } catch (err) {
    if (!opts.signal?.aborted) throw err;
  }
  return { res, parts };
}

/** Reads raw bytes of a response until `enough(bytes)` says so, then cancels the body. */
async function readRawUntil(
  res: Response,
  enough: (bytes: Uint8Array) => boolean,
): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  let buf = new Uint8Array(0);
  try {
    while (!enough(buf)) {
      const { done, value } = await reader.read();
      if (done) break;
      const next = new Uint8Array(buf.length + value.length);
      next.set(buf);
      next.set(value, buf.length);
      buf = next;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return buf;
}

/** Every index at which `needle` occurs in `hay`. */
function indexesOf(hay: Uint8Array, needle: Uint8Array): number[] {
  const out: number[] = [];
  let p = hay.indexOf(needle[0]);
  while (p >= 0 && p + needle.length <= hay.length) {
    let k = 1;
    while (k < needle.length && hay[p + k] === needle[k]) k++;
    if (k === needle.length) out.push(p);
    p = hay.indexOf(needle[0], p + 1);
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** Checks the part framing a non-browser client gets, for `n` parts at `width`x`height`. */
async function assertStrictStream(base: string, n: number, width: number, height: number) {
  const res = await fetch(`${base}stream`, { headers: CURL });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^multipart\/x-mixed-replace;\s*boundary=/);
  assert.equal(boundaryFromContentType(res.headers.get("content-type")!), BOUNDARY);
  assert.equal(res.headers.get("cache-control"), "no-store, no-cache, must-revalidate, max-age=0");
  assert.equal(res.headers.get("pragma"), "no-cache");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  // Keep the first bytes aside: the body must open with the boundary, no preamble.
  let head = new Uint8Array(0);
  const spy = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      if (head.length < 64) {
        const next = new Uint8Array(head.length + chunk.length);
        next.set(head);
        next.set(chunk, head.length);
        head = next;
      }
      controller.enqueue(chunk);
    },
  });
  const parts: MultipartPart[] = [];
  for await (
    const part of readMultipart(res.body!.pipeThrough(spy), BOUNDARY, { strict: true })
  ) {
    parts.push(part);
    if (parts.length === n) break;
  }
  assert.ok(startsWith(head, enc.encode(`--${BOUNDARY}\r\n`)), dec.decode(head.subarray(0, 40)));
  assert.equal(parts.length, n);
  const now = Date.now() / 1000;
  let previous = 0;
  for (const part of parts) {
    assert.equal(part.headers.get("content-type"), "image/jpeg");
    assert.equal(Number(part.headers.get("content-length")), part.body.length);
    const ts = part.headers.get("x-timestamp") ?? "";
    assert.match(ts, /^\d{10}\.\d{6}$/, `X-Timestamp ${ts}`);
    assert.ok(Math.abs(Number(ts) - now) < 60, `X-Timestamp ${ts} is not close to now ${now}`);
    assert.ok(Number(ts) > previous, "timestamps increase");
    previous = Number(ts);
    assert.deepEqual(jpegInfo(part.body), { width, height });
  }
}

Deno.test("/stream: strict framing, full part headers, complete JPEGs, no-cache (replay)", async () => {
  await withReplay(25, {}, (server) => assertStrictStream(server.url, 5, 320, 240));
});

Deno.test(requires(["ffmpeg"], {
  name: "/stream: strict framing at the configured size (ffmpeg testsrc 160x120)",
  async fn() {
    const server = await startServer({
      port: 0,
      host: "127.0.0.1",
      source: "testsrc",
      size: { width: 160, height: 120 },
      fps: 15,
    });
    try {
      await assertStrictStream(server.url, 3, 160, 120);
    } finally {
      await server.stop();
    }
  },
}));

/** Reads `frames` frames in advance-headers layout and checks it byte by byte. */
async function assertAdvanceLayout(res: Response, frames: number): Promise<void> {
  assert.equal(res.status, 200);
  const bytes = await readRawUntil(res, (b) => indexesOf(b, ADVANCE_BLOCK).length >= frames);
  assert.ok(startsWith(bytes, OPEN_ADVANCE), dec.decode(bytes.subarray(0, 60)));
  const blocks = indexesOf(bytes, ADVANCE_BLOCK);
  assert.ok(blocks.length >= frames, `only ${blocks.length} frames arrived`);
  // Between two header blocks there is exactly one complete JPEG: the block follows at once.
  let from = OPEN_ADVANCE.length;
  for (const at of blocks.slice(0, frames)) {
    const jpeg = bytes.subarray(from, at);
    assert.deepEqual(jpegInfo(jpeg), { width: 320, height: 240 }, `part at ${from}..${at}`);
    from = at + ADVANCE_BLOCK.length;
  }
  assert.equal(indexesOf(bytes, enc.encode("Content-Length")).length, 0);
}

Deno.test("/stream: every browser's <img> request gets advance headers; fetch() readers and ?advance_headers=0 do not", async () => {
  await withReplay(25, {}, async (server) => {
    await assertAdvanceLayout(await fetch(`${server.url}stream`, { headers: CHROMIUM_IMG }), 3);
    await assertAdvanceLayout(
      await fetch(`${server.url}stream?advance_headers=1`, { headers: CURL }),
      3,
    );
    // Chromium told not to: the full headers, which the strict parser accepts.
    const off = await readParts(`${server.url}stream?advance_headers=0`, {
      headers: CHROMIUM_IMG,
      max: 3,
    });
    assert.equal(off.parts.length, 3);
    for (const p of off.parts) assert.equal(Number(p.headers.get("content-length")), p.body.length);
    // Firefox and Safari paint late in the plain layout too: their <img> gets it ahead as well.
    for (
      const ua of [
        "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
      ]
    ) {
      const img = await fetch(`${server.url}stream`, {
        headers: { "Sec-Fetch-Dest": "image", "User-Agent": ua },
      });
      await assertAdvanceLayout(img, 2);
    }
    // A fetch() reader in a browser (Mainsail's) needs Content-Length: the full headers.
    const reader = await readParts(`${server.url}stream`, {
      headers: { ...CHROMIUM_IMG, "Sec-Fetch-Dest": "empty" },
      max: 2,
    });
    for (const p of reader.parts) {
      assert.equal(Number(p.headers.get("content-length")), p.body.length);
    }
  });
});

for (const [mode, headers] of [["normal", CURL], ["advance", CHROMIUM_IMG]] as const) {
  Deno.test(`server.stop() while a client reads ends the stream with --${BOUNDARY}-- (${mode})`, async () => {
    const { source } = replaySource(25);
    const server = await startServer({ port: 0, host: "127.0.0.1", workers: 1 }, { source });
    let stopping: Promise<void> | null = null;
    try {
      const res = await fetch(`${server.url}stream`, { headers });
      const reader = res.body!.getReader();
      const chunks: Uint8Array[] = [];
      let total = 0;
      let gotFrame = false;
      // Read until one frame is through, stop the server, then read to the end of the body.
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        total += value.length;
        if (!gotFrame && total > 2000) {
          gotFrame = true;
          // Not awaited yet: stop() resolves only once this body has been read to its end.
          stopping = server.stop();
        }
      }
      await stopping;
      const all = new Uint8Array(total);
      let off = 0;
      for (const c of chunks) {
        all.set(c, off);
        off += c.length;
      }
      assert.ok(gotFrame, "no frame arrived before the stream ended");
      assert.ok(
        dec.decode(all.subarray(-40)).endsWith(`\r\n--${BOUNDARY}--\r\n`),
        JSON.stringify(dec.decode(all.subarray(-40))),
      );
      if (mode === "normal") {
        // The whole body, close delimiter included, is a valid strict stream.
        const parts = [];
        for await (
          const p of readMultipart(ReadableStream.from([all]), BOUNDARY, { strict: true })
        ) {
          parts.push(p);
        }
        assert.ok(parts.length >= 1);
      }
    } finally {
      await server.stop();
    }
  });
}

for (const clients of [2, 20]) {
  Deno.test(`fan-out: ${clients} clients each receive every published frame; snapshots steal none`, async () => {
    await withReplay(25, {}, async (server, published) => {
      const snapshots: string[] = [];
      const readers = Array.from(
        { length: clients },
        () => readParts(`${server.url}stream`, { headers: CURL, max: 15 }),
      );
      // Snapshots taken while the streams run must not cost any stream a frame.
      const snapping = (async () => {
        for (let i = 0; i < 5; i++) {
          const res = await fetch(`${server.url}snapshot.jpg`);
          assert.equal(res.status, 200);
          await res.arrayBuffer();
          snapshots.push(res.headers.get("x-timestamp")!);
        }
      })();
      const results = await Promise.all(readers);
      await snapping;
      const seqs = results.map((r) => r.parts.map((p) => p.headers.get("x-timestamp")!));
      for (const s of seqs) assert.equal(s.length, 15);
      // The window every client was connected for: from the latest first frame to the earliest
      // last one. Inside it, every client must have got exactly the frames the source published.
      const lo = Math.max(...seqs.map((s) => Number(s[0])));
      const hi = Math.min(...seqs.map((s) => Number(s.at(-1))));
      const expected = published.filter((t) => Number(t) >= lo && Number(t) <= hi);
      assert.ok(expected.length >= 8, `window holds only ${expected.length} frames`);
      for (const [i, s] of seqs.entries()) {
        const got = s.filter((t) => Number(t) >= lo && Number(t) <= hi);
        assert.deepEqual(got, expected, `client ${i} missed or repeated frames`);
      }
      for (const t of snapshots) assert.ok(published.includes(t), `snapshot ${t} was published`);
    });
  });
}

Deno.test("?fps=2 caps one client while another gets the full rate", async () => {
  await withReplay(20, {}, async (server, published) => {
    const stopCapped = new AbortController();
    const capped = readParts(`${server.url}stream?fps=2`, {
      headers: CURL,
      max: 1000,
      signal: stopCapped.signal,
    });
    const full = await readParts(`${server.url}stream`, { headers: CURL, max: 40 });
    stopCapped.abort();
    const cappedParts = (await capped).parts;
    const ts = (p: MultipartPart) => Number(p.headers.get("x-timestamp"));
    const lo = ts(full.parts[0]);
    const hi = ts(full.parts.at(-1)!);
    const fullCount = full.parts.length;
    const cappedCount = cappedParts.filter((p) => ts(p) >= lo && ts(p) <= hi).length;
    // 2 fps against 20 fps over the same frames: about a tenth.
    const ratio = cappedCount / fullCount;
    assert.ok(cappedCount >= 2, `capped client got ${cappedCount} frames`);
    assert.ok(ratio >= 0.05 && ratio <= 0.2, `capped/full = ${cappedCount}/${fullCount}`);
    // The full-rate client was not slowed down by its capped neighbour.
    const inWindow = published.filter((t) => Number(t) >= lo && Number(t) <= hi);
    assert.deepEqual(full.parts.map((p) => p.headers.get("x-timestamp")), inWindow);
  });
});

Deno.test("errors: 404 and 405 JSON with Allow, 400 naming the parameter; HEAD and OPTIONS", async () => {
  await withReplay(25, {}, async (server) => {
    const base = server.url;
    const notFound = await fetch(`${base}nope`);
    assert.equal(notFound.status, 404);
    assert.match(notFound.headers.get("content-type")!, /application\/json/);
    assert.equal(typeof (await notFound.json()).error, "string");

    for (const [method, path] of [["POST", "stream"], ["GET", "pause"], ["DELETE", "state"]]) {
      const res = await fetch(`${base}${path}`, { method });
      assert.equal(res.status, 405, `${method} /${path}`);
      const body = await res.json();
      assert.equal(typeof body.error, "string");
      const allow = res.headers.get("allow") ?? "";
      assert.ok(allow.length > 0, `405 on ${method} /${path} without Allow`);
      assert.ok(!allow.split(/,\s*/).includes(method), `Allow ${allow} lists ${method}`);
    }

    const badFps = await fetch(`${base}stream?fps=fast`);
    assert.equal(badFps.status, 400);
    assert.equal((await badFps.json()).param, "fps");
    const badAction = await fetch(`${base}?action=dance`);
    assert.equal(badAction.status, 400);
    assert.equal((await badAction.json()).param, "action");

    const head = await fetch(`${base}snapshot.jpg`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), "image/jpeg");
    assert.ok(Number(head.headers.get("content-length")) > 0);
    assert.ok(head.headers.get("etag"));
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    for (const path of ["stream", "snapshot.jpg", "state", "pause", ""]) {
      const res = await fetch(`${base}${path}`, { method: "OPTIONS" });
      assert.equal(res.status, 204, `OPTIONS /${path}`);
      assert.match(res.headers.get("allow") ?? "", /OPTIONS/);
      await res.body?.cancel();
    }
  });
});

Deno.test("snapshots: /?action=snapshot is a JPEG, /snapshot and /snapshot.png decode as PNG", async () => {
  await withReplay(25, {}, async (server) => {
    const jpg = await fetch(`${server.url}?action=snapshot`);
    assert.equal(jpg.status, 200);
    assert.equal(jpg.headers.get("content-type"), "image/jpeg");
    assert.deepEqual(jpegInfo(new Uint8Array(await jpg.arrayBuffer())), {
      width: 320,
      height: 240,
    });
    for (const path of ["snapshot", "snapshot.png"]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/png");
      const image = await Image.decode(new Uint8Array(await res.arrayBuffer()));
      assert.equal(image.width, 320);
      assert.equal(image.height, 240);
    }
  });
});

Deno.test("snapshot ETag: same frame answers 304, a new frame 200; Last-Modified and Age", async () => {
  await withReplay(25, {}, async (server) => {
    const first = await fetch(`${server.url}snapshot.jpg`);
    await first.arrayBuffer();
    // Paused, the newest frame stays the same, so two requests see one frame.
    assert.equal(
      (await (await fetch(`${server.url}pause`, { method: "POST" })).json()).paused,
      true,
    );
    const a = await fetch(`${server.url}snapshot.jpg`);
    assert.equal(a.status, 200);
    await a.arrayBuffer();
    const etag = a.headers.get("etag")!;
    assert.match(etag, /^"[^"]+"$/);
    assert.ok(!Number.isNaN(Date.parse(a.headers.get("last-modified")!)));
    assert.match(a.headers.get("age") ?? "", /^\d+$/);
    const same = await fetch(`${server.url}snapshot.jpg`, { headers: { "If-None-Match": etag } });
    assert.equal(same.status, 304);
    assert.equal(same.headers.get("etag"), etag);
    assert.equal((await same.arrayBuffer()).byteLength, 0);
    const other = await fetch(`${server.url}snapshot.jpg`, {
      headers: { "If-None-Match": '"something-else"' },
    });
    assert.equal(other.status, 200);
    await other.arrayBuffer();
    // PNG and JPEG of one frame are different representations: different tags.
    const png = await fetch(`${server.url}snapshot.png`, { method: "HEAD" });
    await png.arrayBuffer();
    assert.notEqual(png.headers.get("etag"), etag);

    await (await fetch(`${server.url}resume`, { method: "POST" })).arrayBuffer();
    // A frame newer than the tagged one has arrived once a stream delivers one past it.
    const taggedAt = Number(a.headers.get("x-timestamp"));
    const { parts } = await readParts(`${server.url}stream`, { headers: CURL, max: 3 });
    assert.ok(parts.some((p) => Number(p.headers.get("x-timestamp")) > taggedAt));
    const fresh = await fetch(`${server.url}snapshot.jpg`, { headers: { "If-None-Match": etag } });
    assert.equal(fresh.status, 200);
    assert.notEqual(fresh.headers.get("etag"), etag);
    await fresh.arrayBuffer();
  });
});

Deno.test("snapshot ?ago=1 with history 5 is about a second older; ago beyond history is 400", async () => {
  await withReplay(20, { history: 5 }, async (server) => {
    // Let 1.5 s of frames into the history, measured by the frames' own timestamps.
    const stop = new AbortController();
    const res = await fetch(`${server.url}stream`, { headers: CURL, signal: stop.signal });
    let firstTs = 0;
    try {
      for await (const part of readMultipart(res.body!, BOUNDARY, { strict: true })) {
        const ts = Number(part.headers.get("x-timestamp"));
        firstTs ||= ts;
        if (ts - firstTs >= 1.5) break;
      }
    } finally {
      stop.abort();
    }
    const newest = await fetch(`${server.url}snapshot.jpg`);
    await newest.arrayBuffer();
    const older = await fetch(`${server.url}snapshot.jpg?ago=1`);
    assert.equal(older.status, 200);
    assert.deepEqual(jpegInfo(new Uint8Array(await older.arrayBuffer())), {
      width: 320,
      height: 240,
    });
    const gap = Number(newest.headers.get("x-timestamp")) -
      Number(older.headers.get("x-timestamp"));
    assert.ok(gap >= 0.7 && gap <= 1.5, `?ago=1 frame is ${gap.toFixed(3)} s older`);
    assert.ok(Number(older.headers.get("age")) >= 1);

    for (const bad of ["6", "-1", "soon"]) {
      const r = await fetch(`${server.url}snapshot.jpg?ago=${bad}`);
      assert.equal(r.status, 400, `ago=${bad}`);
      const body = await r.json();
      assert.equal(body.param, "ago");
      assert.match(body.error, /ago/);
    }
  });
});

Deno.test("/state reports source, size, viewers; POST /pause and /resume are idempotent", async () => {
  await withReplay(25, {}, async (server) => {
    const stop = new AbortController();
    const res = await fetch(`${server.url}stream`, { headers: CURL, signal: stop.signal });
    try {
      const first = readMultipart(res.body!, BOUNDARY, { strict: true });
      await first.next();
      const state = await (await fetch(`${server.url}state`)).json();
      assert.equal(state.source.kind, "replay");
      assert.equal(state.source.online, true);
      assert.equal(state.width, 320);
      assert.equal(state.height, 240);
      assert.equal(state.source.width, 320);
      assert.equal(state.encoder.path, "passthrough");
      assert.equal(typeof state.version, "string");
      assert.ok(state.uptime >= 0);
      assert.equal(state.clients, 1);
      assert.equal(state.viewers.length, 1);
      assert.equal(state.viewers[0].mode, "normal");
      assert.equal(state.paused, false);
      await first.return(undefined);
    } finally {
      stop.abort();
    }

    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${server.url}pause`, { method: "POST" });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { paused: true });
    }
    assert.equal((await (await fetch(`${server.url}state`)).json()).paused, true);
    assert.equal((await (await fetch(`${server.url}healthz`)).json()).status, "paused");
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${server.url}resume`, { method: "POST" });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { paused: false });
    }
    assert.equal((await (await fetch(`${server.url}state`)).json()).paused, false);
  });
});
