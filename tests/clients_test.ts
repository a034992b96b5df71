/**
 * Viewers that misbehave (DESIGN §5): one that stops reading costs nobody else a frame, one
 * that never reads is closed after `--send-timeout`, `--max-clients` answers 503 with
 * Retry-After, and hundreds of connect/abort cycles leave nothing behind.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { type Logger, silentLogger } from "../src/core/logger.ts";
import {
  fetchText,
  getState,
  stalledClient,
  type State,
  StreamWatcher,
  waitFor,
} from "./stream_helpers.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** Reads `conn` until the server closes it (EOF or reset); false if still open after `ms`. */
async function readUntilClosed(conn: Deno.TcpConn, ms: number): Promise<boolean> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  const buf = new Uint8Array(1 << 16);
  try {
    while ((await conn.read(buf)) !== null) { /* drain what the kernel buffered */ }
  } catch (err) {
    if (timedOut) return false;
    assert.ok(err instanceof Deno.errors.ConnectionReset, `unexpected ${err}`);
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) return false;
  conn.close();
  return true;
}

/** Waits until `pick(state)` has not changed for `stableMs` (e.g. a viewer stopped advancing). */
async function waitUnchanged(
  base: string,
  pick: (s: State) => number | undefined,
  what: string,
  stableMs = 600,
): Promise<number> {
  let last: number | undefined;
  let since = 0;
  return await waitFor(async () => {
    const v = pick(await getState(base));
    const now = performance.now();
    if (v !== last) {
      last = v;
      since = now;
      return null;
    }
    return v !== undefined && now - since >= stableMs ? v : null;
  }, what);
}

Deno.test("a viewer that stops reading does not slow the others down", async () => {
  const server = await startServer({ port: 0, source: FIXTURE, alwaysOn: true });
  let conn: Deno.TcpConn | null = null;
  let watcher: StreamWatcher | null = null;
  try {
    conn = await stalledClient(server.port, "/stream");
    await waitFor(
      async () => (await getState(server.url)).clients === 1,
      "stalled viewer registered",
    );
    const stalledId = (await getState(server.url)).viewers[0].id;
    watcher = await StreamWatcher.open(`${server.url}stream`, { keep: 64 });
    // Make sure the scenario is real: the stalled viewer stopped being served.
    const stalledAt = await waitUnchanged(
      server.url,
      (s) => s.viewers.find((v) => v.id === stalledId)?.framesSent,
      "the stalled viewer to stop advancing",
    );
    const start = watcher.count;
    await watcher.waitForCount(start + 21);
    const parts = watcher.recent.slice(-21);
    const fps = 20 / ((parts[20].at - parts[0].at) / 1000);
    const state = await getState(server.url);
    const stalled = state.viewers.find((v) => v.id === stalledId);
    assert.ok(stalled, "the stalled viewer was dropped (send timeout is 10 s)");
    assert.ok(stalled.framesSent <= stalledAt + 2, "the stalled viewer kept being fed");
    // Held back once its own socket buffers are full (its receive buffer takes about 128 KB,
    // 25 of the fixture's 5 KB frames), not after the 4 MiB a server's send buffer can grow to
    // (800 of them).
    assert.ok(
      stalled.framesSent <= 50,
      `${stalled.framesSent} frames queued for a viewer that reads none`,
    );
    assert.equal((stalled as unknown as { lagging: boolean }).lagging, true);
    // The reading viewer keeps the source's rate (10 fps in the fixture), with slack for load.
    assert.ok(fps >= 7, `the reading viewer got ${fps.toFixed(1)} fps next to a stalled one`);
    assert.equal(watcher.bad, 0);
  } finally {
    conn?.close();
    await watcher?.close();
    await server.stop();
  }
});

Deno.test("--send-timeout 1 closes a viewer that never reads; others stay", async () => {
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
  const server = await startServer(
    { port: 0, source: FIXTURE, alwaysOn: true, sendTimeout: 1 },
    { log },
  );
  let watcher: StreamWatcher | null = null;
  try {
    watcher = await StreamWatcher.open(`${server.url}stream`);
    const conn = await stalledClient(server.port, "/stream");
    await waitFor(async () => (await getState(server.url)).clients === 2, "two viewers");
    await waitFor(
      async () => (await getState(server.url)).clients === 1,
      "the stalled viewer closed",
    );
    // The stalled client sees its connection end (after what the kernel had buffered).
    assert.equal(await readUntilClosed(conn, 5000), true, "the connection stayed open");
    const metrics = (await fetchText(`${server.url}metrics`)).text;
    assert.match(metrics, /^tuchuan_send_timeouts_total\{camera="default"\} 1$/m);
    assert.ok(warnings.some((w) => /no progress/i.test(w)), "the timeout was not logged");
    // The reading viewer was not touched.
    const n = watcher.count;
    await watcher.waitForCount(n + 3);
    assert.equal(watcher.ended, false);
  } finally {
    await watcher?.close();
    await server.stop();
  }
});

Deno.test("--max-clients 2: the third viewer gets 503 with Retry-After and JSON", async () => {
  const server = await startServer({ port: 0, source: FIXTURE, maxClients: 2 });
  const watchers: StreamWatcher[] = [];
  try {
    watchers.push(await StreamWatcher.open(`${server.url}stream`));
    watchers.push(await StreamWatcher.open(`${server.url}stream`));
    const res = await fetch(`${server.url}stream`);
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get("retry-after")) > 0, "no Retry-After");
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const body = await res.json();
    assert.equal(typeof body.error, "string");
    // The mjpg-streamer alias counts against the same cap.
    const alias = await fetchText(`${server.url}?action=stream`);
    assert.equal(alias.status, 503);
    // The two admitted viewers still stream; snapshots are not viewers.
    await Promise.all(watchers.map((w) => w.waitForCount(2)));
    assert.equal((await fetchText(`${server.url}snapshot.jpg`)).status, 200);
    assert.match(
      (await fetchText(`${server.url}metrics`)).text,
      /^tuchuan_clients_rejected_total\{camera="default"\} 2$/m,
    );
    // A place frees up when a viewer leaves.
    await watchers.shift()!.close();
    await waitFor(async () => (await getState(server.url)).clients === 1, "one viewer left");
    watchers.push(await StreamWatcher.open(`${server.url}stream`));
    await watchers.at(-1)!.waitForCount(1);
  } finally {
    for (const w of watchers) await w.close();
    await server.stop();
  }
});

Deno.test("500 connect/abort cycles leave no viewer, no demand, and a working stream", async () => {
  const errors: string[] = [];
  const log: Logger = { ...silentLogger, error: (m) => errors.push(m) };
  const server = await startServer({ port: 0, source: FIXTURE, idleTimeout: 1 }, { log });
  try {
    const cycles = 500;
    const concurrency = 10;
    let next = 0;
    const worker = async () => {
      while (next < cycles) {
        const i = next++;
        if (i % 2 === 0) {
          // A fetch that leaves after the response head or the first bytes.
          const ac = new AbortController();
          const res = await fetch(`${server.url}stream`, { signal: ac.signal });
          assert.equal(res.status, 200);
          if (i % 4 === 0) {
            const reader = res.body!.getReader();
            await reader.read();
            await reader.cancel();
          } else {
            await res.body!.cancel();
          }
        } else {
          // A raw socket closed right after the first bytes of the answer.
          const conn = await stalledClient(
            server.port,
            i % 3 === 0 ? "/?action=stream" : "/stream",
          );
          await conn.read(new Uint8Array(256));
          conn.close();
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await waitFor(async () => (await getState(server.url)).clients === 0, "0 clients", 10_000);
    assert.equal(server.cameras[0].demand.count, 0, "a viewer's claim on the camera leaked");
    const w = await StreamWatcher.open(`${server.url}stream`);
    await w.waitForCount(3);
    assert.equal((await getState(server.url)).clients, 1);
    await w.close();
    await waitFor(async () => (await getState(server.url)).clients === 0, "0 clients again");
    const metrics = (await fetchText(`${server.url}metrics`)).text;
    assert.match(metrics, /^tuchuan_clients\{camera="default"\} 0$/m);
    assert.deepEqual(errors, [], "aborted viewers produced error logs");
  } finally {
    await server.stop();
  }
});
