/**
 * Bad input never hurts viewers (DESIGN §3, §5): damaged JPEGs from the source are dropped and
 * counted, bad query values get a 400 naming the parameter, and thousands of random or
 * malformed requests get no 5xx while an existing viewer keeps receiving frames.
 */
import assert from "node:assert/strict";
import { Image } from "imagescript";
import type { Logger } from "../src/core/logger.ts";
import { silentLogger } from "../src/core/logger.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import { startServer } from "../src/server.ts";
import { fetchText, getState, StreamWatcher, waitFor } from "./stream_helpers.ts";

const TESTCARD = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;
const DAMAGED = new URL("../fixtures/damaged.mjpeg", import.meta.url).pathname;

/** The bodies of a recording's parts, split into complete JPEGs and damaged ones. */
async function recordingParts(path: string): Promise<{ good: Uint8Array[]; bad: Uint8Array[] }> {
  const bytes = await Deno.readFile(path);
  const boundary = /^--([^\r\n]+)\r?\n/.exec(new TextDecoder().decode(bytes.subarray(0, 100)))![1];
  const good: Uint8Array[] = [];
  const bad: Uint8Array[] = [];
  for await (const part of readMultipart(ReadableStream.from([bytes]), boundary)) {
    let end = part.body.byteLength;
    while (end > 0 && (part.body[end - 1] === 0x0a || part.body[end - 1] === 0x0d)) end--;
    const body = part.body.subarray(0, end);
    (jpegInfo(body) ? good : bad).push(body);
  }
  return { good, bad };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

Deno.test("damaged fixture: no damaged frame is ever served, and each is counted", async () => {
  const { good, bad } = await recordingParts(DAMAGED);
  assert.equal(good.length, 6);
  assert.equal(bad.length, 4);
  const server = await startServer({ port: 0, source: DAMAGED });
  let watcher: StreamWatcher | null = null;
  try {
    // Twelve parts take the replay through its loop twice (six good frames per loop).
    watcher = await StreamWatcher.open(`${server.url}stream`, { keep: 12 });
    await watcher.waitForCount(12);
    assert.equal(watcher.bad, 0, "a part on the wire is not a complete JPEG");
    assert.equal(watcher.error, null);
    const seen = new Set<number>();
    for (const part of watcher.recent) {
      assert.ok(!bad.some((b) => sameBytes(b, part.body)), "a damaged part was served");
      const index = good.findIndex((g) => sameBytes(g, part.body));
      assert.ok(index >= 0, "a part on the wire is not one of the fixture's good frames");
      seen.add(index);
    }
    // Every good frame decodes for real, not just structurally.
    for (const i of seen) {
      const img = await Image.decode(good[i]);
      assert.equal(img.width, 320);
    }
    const state = await getState(server.url);
    assert.ok(
      state.frames.dropped.corrupt >= 4,
      `only ${state.frames.dropped.corrupt} damaged frames counted over a whole loop`,
    );
  } finally {
    await watcher?.close();
    await server.stop();
  }
});

Deno.test("bad query values get 400 with JSON naming the parameter", async () => {
  const server = await startServer({ port: 0, source: TESTCARD, history: 5 });
  try {
    const cases: [string, string][] = [
      ["stream?fps=abc", "fps"],
      ["stream?fps=0", "fps"],
      ["stream?fps=-5", "fps"],
      ["stream?fps=", "fps"],
      ["stream?advance_headers=2", "advance_headers"],
      ["?action=stream&fps=NaN", "fps"],
      ["snapshot.jpg?ago=-1", "ago"],
      ["snapshot.png?ago=abc", "ago"],
      ["snapshot?ago=3600", "ago"],
      ["?action=nope", "action"],
    ];
    for (const [path, param] of cases) {
      const res = await fetchText(`${server.url}${path}`);
      assert.equal(res.status, 400, `/${path} answered ${res.status}`);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/, `/${path}`);
      const body = JSON.parse(res.text);
      assert.equal(body.param, param, `/${path}: ${res.text}`);
      assert.equal(typeof body.error, "string");
      assert.doesNotMatch(res.text, /\bat .*\.ts:\d+/, "a stack trace leaked");
    }
    // None of them left a viewer behind.
    assert.equal((await getState(server.url)).clients, 0);
  } finally {
    await server.stop();
  }
});

/** A small seeded PRNG (mulberry32) so a failing case can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  "/",
  "/stream",
  "/snapshot",
  "/snapshot.jpg",
  "/snapshot.png",
  "/state",
  "/healthz",
  "/metrics",
  "/resume",
  "/nope",
  "/stream/",
  "//stream",
  "/%00",
  "/%ff%fe",
  "/..%2f..%2fetc%2fpasswd",
  "/snapshot.jpg/../state",
  "/%E2%98%83",
  "/a".repeat(300),
  "/controls",
  "/main/stream",
  "/main/snapshot.jpg",
  "/main/state",
  "/main",
  "/secret/stream",
  "/secret/state",
  "/secret/snapshot.jpg",
  "/secret/controls",
  "/nosuchcamera/stream",
  "/%6dain/state",
];
const KEYS = [
  "fps",
  "ago",
  "max_delay",
  "action",
  "advance_headers",
  "token",
  "id",
  "value",
  "x",
  "",
  "fps[]",
  "%00",
];
const VALUES = [
  "1",
  "0",
  "-1",
  "abc",
  "",
  "NaN",
  "Infinity",
  "1e309",
  "0x10",
  "2",
  "stream",
  "snapshot",
  "%ff",
  "%",
  "1%00",
  "9".repeat(400),
  "0.001",
  "true",
];
const METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "FOO"];

function randomRequest(rand: () => number): { url: string; init: RequestInit } {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  let path = pick(PATHS);
  let method = pick(METHODS);
  // POST /pause would freeze the viewer this test watches; everything else is fair game.
  if (path === "/resume" && method === "POST") method = "GET";
  if (rand() < 0.05) {
    path = "/" +
      Array.from(
        { length: 1 + Math.floor(rand() * 40) },
        () => String.fromCharCode(33 + Math.floor(rand() * 94)),
      ).join("").replace(/[#?]/g, "");
  }
  const params: string[] = [];
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) params.push(`${pick(KEYS)}=${pick(VALUES)}`);
  const headers: Record<string, string> = {};
  if (rand() < 0.03) headers["X-Huge"] = "x".repeat(8_000 + Math.floor(rand() * 120_000));
  if (rand() < 0.1) headers["Authorization"] = pick(["Basic !!!", "Bearer", "Basic Og==", "x"]);
  if (rand() < 0.1) headers["Sec-Fetch-Dest"] = "image";
  if (rand() < 0.05) headers["If-None-Match"] = pick(['"x"', "*", ",,,"]);
  if (rand() < 0.3) {
    headers["Sec-Fetch-Site"] = pick(["cross-site", "same-site", "same-origin", "none"]);
    headers["Origin"] = pick(["http://evil.example", "null", "http://127.0.0.1", ""]);
  }
  const body = method === "POST" || method === "PUT" || method === "PATCH"
    ? "x".repeat(Math.floor(rand() * 5000))
    : undefined;
  return {
    url: `${path}${params.length ? `?${params.join("&")}` : ""}`,
    init: { method, headers, body },
  };
}

/** Malformed HTTP over a raw socket. */
function garbage(rand: () => number, port: number): Uint8Array {
  const enc = new TextEncoder();
  const kinds = [
    () => crypto.getRandomValues(new Uint8Array(1 + Math.floor(rand() * 2000))),
    () => enc.encode("GET / HTTP/9.9\r\n\r\n"),
    () => enc.encode("GET\r\n\r\n"),
    () => enc.encode(`GET /stream HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n`),
    () => enc.encode(`POST /resume HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n`),
    () =>
      enc.encode(`POST /resume HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`),
    () =>
      enc.encode(
        `GET /state HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX: ${"a".repeat(200_000)}\r\n\r\n`,
      ),
    () => enc.encode(`GET /\x00\x01 HTTP/1.1\r\nHost: x\r\n\r\n`),
    () => enc.encode(`GET /stream HTTP/1.1\r\n`), // never finished
    () => enc.encode(`\r\n\r\n\r\n`),
  ];
  return kinds[Math.floor(rand() * kinds.length)]();
}

/** Sends `bytes`, reads the answer's status line (if any) within `ms`, closes. */
async function rawExchange(port: number, bytes: Uint8Array, ms: number): Promise<number | null> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed meanwhile.
    }
  }, ms);
  try {
    try {
      await conn.write(bytes);
    } catch {
      // The server may hang up before reading it all.
    }
    const buf = new Uint8Array(64);
    const n = await conn.read(buf).catch(() => null);
    if (!n) return null;
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n)));
    return m ? Number(m[1]) : null;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed by the timer.
    }
  }
}

/** Credentials and a key in a camera URL, which no answer may ever contain. */
const SECRETS = ["fuzz-pw-71c3", "FUZZKEY-88e1"];

Deno.test("fuzz: thousands of random and malformed requests, two cameras: no 5xx, no secret, no cross-site change, the viewer keeps its frames", async () => {
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: (m) => errors.push(m) };
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const server = await startServer({
    port: 0,
    alwaysOn: true,
    cameras: [
      { name: "main", source: TESTCARD, options: {} },
      {
        name: "secret",
        source: `http://u:${SECRETS[0]}@127.0.0.1:${closedPort}/cgi?key=${SECRETS[1]}`,
        options: {},
      },
    ],
  }, { log });
  let watcher: StreamWatcher | null = null;
  try {
    watcher = await StreamWatcher.open(`${server.url}stream`);
    await watcher.waitForCount(2);
    const before = watcher.count;
    const rand = prng(20261201);
    const statuses = new Map<number, number>();
    const fiveXX: string[] = [];
    const crossSite: string[] = [];
    const leaks: string[] = [];
    // Bounded in time as well as in count, so a slow machine still finishes.
    const deadline = performance.now() + 15_000;
    let sent = 0;
    const httpWorker = async () => {
      while (sent < 2000 && performance.now() < deadline) {
        sent++;
        const { url, init } = randomRequest(rand);
        let res: Response;
        try {
          res = await fetch(`http://127.0.0.1:${server.port}${url}`, init);
        } catch {
          // The server may refuse e.g. a 100 KB header by closing: not a 5xx.
          continue;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // The "secret" camera is offline on purpose: /healthz and its own routes saying so
        // (503 "unavailable") is their job; a 503 anywhere else, or any other 5xx, is a bug.
        const unavailable = res.status === 503 &&
          (url.startsWith("/healthz") || url.startsWith("/secret/"));
        if (res.status >= 500 && !unavailable) {
          fiveXX.push(`${init.method} ${url.slice(0, 80)} -> ${res.status}`);
        }
        const headers = init.headers as Record<string, string>;
        const site = headers["Sec-Fetch-Site"];
        if (
          init.method === "POST" && res.status < 300 &&
          (site === "cross-site" || site === "same-site")
        ) {
          crossSite.push(`${init.method} ${url.slice(0, 80)} (${site}) -> ${res.status}`);
        }
        if (/multipart/.test(res.headers.get("content-type") ?? "")) await res.body?.cancel();
        else {
          const text = new TextDecoder().decode(await res.arrayBuffer());
          for (const secret of SECRETS) {
            if (text.includes(secret)) leaks.push(`${url.slice(0, 80)} shows ${secret}`);
          }
        }
      }
    };
    let rawSent = 0;
    const rawWorker = async () => {
      while (rawSent < 200 && performance.now() < deadline) {
        rawSent++;
        const status = await rawExchange(server.port, garbage(rand, server.port), 300);
        if (status !== null && status >= 500) fiveXX.push(`raw garbage -> ${status}`);
      }
    };
    await Promise.all([
      ...Array.from({ length: 16 }, httpWorker),
      ...Array.from({ length: 4 }, rawWorker),
    ]);
    assert.ok(sent >= 1000, `only ${sent} requests within the time bound`);
    assert.deepEqual(fiveXX, [], "5xx answers");
    assert.deepEqual(crossSite, [], "state changes from another site went through");
    assert.deepEqual(leaks, [], "secrets in answers");
    assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(404) ?? 0) > 0, "the fuzz hit nothing");

    // The viewer connected before the storm kept receiving frames through it and after it.
    assert.equal(watcher.ended, false, `the viewer was cut off: ${watcher.error}`);
    assert.ok(watcher.count > before + 5, `the viewer got ${watcher.count - before} frames`);
    const after = watcher.count;
    await watcher.waitForCount(after + 3);
    assert.equal(watcher.bad, 0);
    assert.deepEqual(errors, [], "requests logged as errors");
    await waitFor(async () => (await getState(server.url)).clients === 1, "fuzz viewers gone");
  } finally {
    await watcher?.close();
    await server.stop();
  }
});
