/**
 * Nobody on the network can take tuchuan down (issue 10): running out of descriptors, silent and
 * slow clients, idle keep-alive connections and a flood of request-less connections all cost
 * bounded resources, and a fresh viewer still streams. Each test spawns `main.ts` (some under a
 * low `ulimit -n`) and plays the hostile client from this process, on 127.0.0.1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import { fetchText, type SpawnedServer, spawnServer, waitFor } from "./stream_helpers.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** Ends a spawned server for good. */
async function kill(server: SpawnedServer): Promise<void> {
  try {
    server.child.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await server.status;
}

/** Reads `n` parts of a fresh viewer's stream (bounded by the caller's waitFor). */
async function streams(base: string, n: number): Promise<boolean> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  try {
    const res = await fetch(`${base}stream`, { signal: ac.signal });
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel();
      return false;
    }
    let got = 0;
    for await (const _ of readMultipart(res.body, "tuchuanframe", { strict: true })) {
      if (++got >= n) break;
    }
    return got >= n;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

/** Opens up to `n` TCP connections that send nothing; refused ones are counted, not thrown. */
async function silentConnections(port: number, n: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    try {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    } catch {
      // Refused while the server's listener is down: part of what is tested.
    }
  }
  return conns;
}

/** True once the server has ended `conn` (a read sees EOF or a reset). */
async function endedByServer(conn: Deno.TcpConn): Promise<boolean> {
  const buf = new Uint8Array(64);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return true;
    }
  } catch {
    return true;
  }
}

function closeAll(conns: Deno.TcpConn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // Already closed.
    }
  }
}

Deno.test("running out of descriptors: the server logs it once, frees them, and serves again", async () => {
  // 1,100 silent connections against ulimit -n 1024 in the issue; 300 against 256 here.
  const server = await spawnServer(
    ["--source", FIXTURE, "--header-timeout", "3", "--log-level", "info"],
    { fdLimit: 256 },
  );
  let conns: Deno.TcpConn[] = [];
  try {
    conns = await silentConnections(server.port, 300);
    await waitFor(
      () => /Accepting connections failed/.test(server.output()),
      "the accept failure",
      10_000,
    );
    // Listening again, and a fresh viewer streams, while the flood is still connected.
    await waitFor(() => streams(server.url, 3), "a fresh viewer streaming", 15_000);
    assert.equal((await fetchText(`${server.url}healthz`)).status, 200);
    const out = server.output();
    assert.equal(
      out.match(/Accepting connections failed/g)?.length,
      1,
      `logged per connection:\n${out}`,
    );
    assert.match(out, /Listening on port \d+ again/);
    assert.match(out, /Too many open files/);
  } finally {
    closeAll(conns);
    await kill(server);
  }
});

Deno.test("silent and byte-a-second clients are closed after --header-timeout; a viewer streams on", async () => {
  const server = await spawnServer(["--source", FIXTURE, "--header-timeout", "2"]);
  const silent = await silentConnections(server.port, 60);
  const slow = await silentConnections(server.port, 30);
  const viewer = await fetch(`${server.url}stream`);
  const parts = readMultipart(viewer.body!, "tuchuanframe", { strict: true });
  let received = 0;
  const reading = (async () => {
    for await (const _ of parts) received++;
  })();
  // A slowloris: one header byte a second, never a whole request.
  const request = new TextEncoder().encode("GET /stream HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n");
  let sent = 0;
  const drip = setInterval(() => {
    for (const c of slow) c.write(request.subarray(sent, sent + 1)).catch(() => {});
    sent++;
  }, 1000);
  try {
    const started = Date.now();
    const ended = await Promise.all([...silent, ...slow].map(endedByServer));
    const took = Date.now() - started;
    assert.ok(ended.every(Boolean));
    // 2 s of timeout plus the once-a-second sweep; generously bounded on a busy machine.
    assert.ok(took < 10_000, `closing the slow clients took ${took} ms`);
    const before = received;
    await waitFor(() => received >= before + 5, "the viewer's frames to keep coming");
    assert.ok(await streams(server.url, 2), "a fresh viewer got no stream");
  } finally {
    clearInterval(drip);
    closeAll([...silent, ...slow]);
    await parts.return(undefined);
    await reading.catch(() => {});
    await kill(server);
  }
});

Deno.test("an idle keep-alive connection is closed after --keepalive-timeout", async () => {
  const server = await spawnServer(["--source", FIXTURE, "--keepalive-timeout", "2"]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 200/);
    const started = Date.now();
    assert.ok(await endedByServer(conn));
    const took = Date.now() - started;
    assert.ok(took >= 1500, `closed after ${took} ms, before the timeout`);
  } finally {
    closeAll([conn]);
    await kill(server);
  }
});

Deno.test("--max-pending: beyond it, the oldest request-less connections are closed", async () => {
  const server = await spawnServer(["--source", FIXTURE, "--max-pending", "10"]);
  const conns = await silentConnections(server.port, 30);
  try {
    assert.equal(conns.length, 30);
    // The oldest 20 go at the next sweep; the newest 10 wait for the header timeout (10 s).
    const first = await Promise.all(conns.slice(0, 20).map(endedByServer));
    assert.ok(first.every(Boolean));
    const state = JSON.parse((await fetchText(`${server.url}state`)).text);
    assert.ok(
      state.connections.closed["too-many-pending"] >= 20,
      JSON.stringify(state.connections),
    );
  } finally {
    closeAll(conns);
    await kill(server);
  }
});

/** The peak resident memory of a process, in MB, from /proc. */
function peakRssMB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

Deno.test("a recording larger than memory should hold is streamed from disk, not read whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_big_" });
  const big = `${dir}/big.mjpeg`;
  // About 200 MB: the fixture's frames over and over, with rising timestamps.
  const { readRecording } = await import("./test_utils.ts");
  const { OPEN_NORMAL, partBytes } = await import("../src/multipart/multipart_writer.ts");
  const parts = (await readRecording(FIXTURE)).filter((p) => p.jpeg);
  const file = await Deno.open(big, { write: true, create: true });
  await file.write(OPEN_NORMAL);
  let size = 0;
  for (let i = 0; size < 200 * 1024 * 1024; i++) {
    const p = parts[i % parts.length];
    const bytes = partBytes(
      { seq: i + 1, jpeg: p.jpeg!, width: p.width, height: p.height, capturedAt: 1e12 + i * 10 },
      "normal",
    );
    for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
    size += bytes.length;
  }
  file.close();
  const server = await spawnServer(["--source", big, "--fps", "100"]);
  try {
    await waitFor(() => streams(server.url, 50), "frames from the big recording", 20_000);
    const peak = peakRssMB(server.pid);
    assert.ok(peak < 150, `peak RSS ${peak.toFixed(0)} MB while playing a 200 MB recording`);
  } finally {
    await kill(server);
    await Deno.remove(dir, { recursive: true });
  }
});
