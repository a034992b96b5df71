import assert from "node:assert/strict";
import { ConnectionGuard, type GuardTable } from "../src/net/connection_guard.ts";
import type { Endpoint, SocketInfo } from "../src/net/socket_table.ts";
import { FakeClock } from "./test_utils.ts";

/** A socket table in memory: connections come and go as the test says; shutdown ends them. */
class FakeTable implements GuardTable {
  readonly conns = new Map<number, SocketInfo>();
  readonly ended: number[] = [];
  fds = 10;
  limit = 1024;
  #nextFd = 100;

  open(port: number): Endpoint {
    const fd = this.#nextFd++;
    const peer = { address: "192.168.1.50", port };
    this.conns.set(fd, { fd, local: { address: "0.0.0.0", port: 8080 }, peer });
    return peer;
  }

  sockets(port: number): SocketInfo[] {
    return [...this.conns.values()].filter((s) => s.local.port === port);
  }

  shutdown(fd: number, peer: Endpoint): boolean {
    const s = this.conns.get(fd);
    if (!s || s.peer?.port !== peer.port) return false;
    this.conns.delete(fd);
    this.ended.push(peer.port);
    return true;
  }

  fdLimit() {
    return { soft: this.limit, hard: this.limit };
  }

  countFds(): number {
    return this.fds + this.conns.size;
  }

  /** Bytes queued per descriptor, as the test sets them. */
  readonly queued = new Map<number, number>();

  sendQueue(fd: number): number | null {
    return this.conns.has(fd) ? this.queued.get(fd) ?? 0 : null;
  }

  peerOf(fd: number): Endpoint | null {
    return this.conns.get(fd)?.peer ?? null;
  }

  fdOf(peer: Endpoint): number {
    for (const s of this.conns.values()) if (s.peer?.port === peer.port) return s.fd;
    return -1;
  }
}

function setup(options: { maxPending?: number } = {}) {
  const clock = new FakeClock();
  const table = new FakeTable();
  const lines: string[] = [];
  const guard = new ConnectionGuard({
    table,
    clock,
    log: { debug() {}, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
    maxPending: options.maxPending ?? 64,
  });
  guard.start(8080);
  return { clock, table, guard, lines };
}

const remote = (p: Endpoint) => ({ hostname: p.address, port: p.port });

/** Counts the guard's socket listings (`n`), each a read of /proc/self/fd in production. */
function countListings(table: FakeTable): { n: number } {
  const count = { n: 0 };
  const sockets = table.sockets.bind(table);
  table.sockets = (port: number) => {
    count.n++;
    return sockets(port);
  };
  return count;
}

Deno.test("a connection that sends no complete request is ended after the header timeout", async () => {
  const { clock, table, guard, lines } = setup();
  const silent = table.open(50_001);
  const served = table.open(50_002);
  await clock.advance(1000);
  guard.begin(remote(served))();
  await clock.advance(9000);
  assert.deepEqual(table.ended, [], "ended before the header timeout");
  await clock.advance(2000);
  assert.deepEqual(table.ended, [silent.port]);
  assert.equal(guard.counts["header-timeout"], 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /Closed 1 connection: 1 header timeout/);
  guard.stop();
});

Deno.test("a connection with a request in progress (a viewer) is never ended; an idle keep-alive one is", async () => {
  const { clock, table, guard } = setup();
  const viewer = table.open(50_010);
  const keepAlive = table.open(50_011);
  await clock.advance(1000);
  const endStream = guard.begin(remote(viewer));
  guard.begin(remote(keepAlive))();
  // Far past every timeout: the stream is still in progress.
  await clock.advance(120_000);
  assert.deepEqual(table.ended, [keepAlive.port]);
  assert.equal(guard.counts["idle-timeout"], 1);
  // The viewer leaves; its connection is then idle like any other.
  endStream();
  await clock.advance(29_000);
  assert.deepEqual(table.ended, [keepAlive.port]);
  await clock.advance(2000);
  assert.deepEqual(table.ended, [keepAlive.port, viewer.port]);
  guard.stop();
});

Deno.test("beyond --max-pending request-less connections, the oldest are ended first", async () => {
  const { clock, table, guard } = setup({ maxPending: 3 });
  const ports: number[] = [];
  for (let i = 0; i < 5; i++) {
    ports.push(table.open(50_100 + i).port);
    await clock.advance(100);
  }
  await clock.advance(1000);
  assert.deepEqual(table.ended.sort(), ports.slice(0, 2));
  assert.equal(guard.counts["too-many-pending"], 2);
  guard.stop();
});

Deno.test("when descriptors run out, request-less then idle connections go, oldest first", async () => {
  const { clock, table, guard } = setup();
  table.limit = 100;
  const idle = table.open(50_200);
  await clock.advance(100);
  guard.begin(remote(idle))();
  const pending = [table.open(50_201).port, table.open(50_202).port];
  const viewer = table.open(50_203);
  guard.begin(remote(viewer));
  await clock.advance(100);
  // As an accept failure would: descriptors are all used.
  table.fds = table.limit - table.conns.size;
  const ended = guard.relieve();
  assert.ok(ended >= 1, "nothing was ended");
  assert.equal(table.ended[0], pending[0], "the oldest request-less connection goes first");
  assert.ok(!table.ended.includes(viewer.port), "a viewer was cut off");
  guard.stop();
});

Deno.test("a viewer's send queue is read from its own descriptor, and a reused descriptor is not mistaken for it", async () => {
  const { clock, table, guard } = setup();
  const viewer = table.open(50_100);
  const queue = guard.sendQueue(remote(viewer));
  const fd = table.fdOf(viewer);
  table.queued.set(fd, 120_000);
  assert.equal(queue(), 120_000);
  // The viewer leaves and another client gets the same descriptor number.
  const info = table.conns.get(fd)!;
  table.conns.set(fd, { ...info, peer: { address: "192.168.1.60", port: 50_999 } });
  // The peer is checked once a second, not at every frame.
  await clock.advance(1000);
  assert.equal(queue(), null, "a stranger's queue was reported as the viewer's");
  guard.stop();
});

Deno.test("a server that reports its connections and has none is not listed every second", async () => {
  for (const reports of [true, false]) {
    const { clock, table, guard } = setup();
    const listings = countListings(table);
    if (reports) guard.reported();
    await clock.advance(5000);
    if (reports) assert.equal(listings.n, 1, "one listing to start from, then none");
    else assert.ok(listings.n >= 5, `not told: a listing every second, got ${listings.n}`);
    table.open(50_020);
    guard.connectionsChanged();
    await clock.advance(1000);
    assert.equal(listings.n, reports ? 2 : 6, "a new connection is listed either way");
    assert.equal(guard.connections, 1);
    guard.stop();
  }
});

Deno.test("told of connections, the guard lists sockets only on a change or while one is not streaming", async () => {
  const { clock, table, guard } = setup();
  const listings = countListings(table);
  const viewer = table.open(50_010);
  guard.connectionsChanged();
  await clock.advance(1000);
  assert.equal(listings.n, 1, "a change: listed");
  const end = guard.begin(remote(viewer));
  await clock.advance(5000);
  assert.equal(listings.n, 1, "every connection streams and nothing changed: no listing");
  const silent = table.open(50_011);
  guard.connectionsChanged();
  await clock.advance(1000);
  assert.equal(listings.n, 2);
  await clock.advance(11_000);
  assert.ok(listings.n >= 12, "a request-less connection is looked at every second");
  assert.deepEqual(table.ended, [silent.port], "and still ended after the header timeout");
  end();
  guard.stop();
});
