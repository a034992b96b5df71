/**
 * Bounds what a slow or silent client can cost: Deno's HTTP server waits forever for a request
 * that never completes and keeps idle keep-alive connections forever, so 300 silent connections
 * or a slowloris at one byte a second would hold descriptors until the process runs out.
 *
 * Once a second (through the injected clock) the guard lists the server's connections
 * (socket_table.ts) and ends, with `shutdown(2)`:
 * - a connection that has not sent a complete request within the header timeout;
 * - a keep-alive connection idle (no request in progress) longer than the idle timeout;
 * - the oldest request-less connections beyond the cap on them (`--max-pending`);
 * - when descriptors run short, request-less and then idle connections, oldest first.
 * Connections with a request in progress, `/stream` viewers above all, are never touched.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { type Endpoint, normalizeAddress, type SocketTable } from "./socket_table.ts";

/** What the guard asks of the socket table (tests give a fake one). */
export type GuardTable = Pick<
  SocketTable,
  "sockets" | "shutdown" | "fdLimit" | "countFds" | "sendQueue" | "peerOf"
>;

/** Options of {@link ConnectionGuard}. */
export interface ConnectionGuardOptions {
  table: GuardTable;
  clock: Clock;
  log: Logger;
  /** A connection must send a complete request within this long. */
  headerTimeoutMs: number;
  /** A keep-alive connection may sit idle this long between requests. */
  idleTimeoutMs: number;
  /** Most connections that have not sent a request yet. */
  maxPending: number;
  /** Descriptors kept free for viewers and the server itself. */
  reserveFds?: number;
}

interface Tracked {
  peer: Endpoint;
  fd: number;
  firstSeen: number;
  /** Requests in progress. */
  active: number;
  /** Requests begun on this connection. */
  requests: number;
  /** When the last request ended (or the connection was first seen). */
  lastActivity: number;
}

/** Why a connection was ended. */
export type CloseReason = "header-timeout" | "idle-timeout" | "too-many-pending" | "fd-pressure";

/** Counts of connections ended, by reason. */
export type GuardCounts = Record<CloseReason, number>;

/** Header and idle timeouts, and a cap on request-less connections. */
export class ConnectionGuard {
  readonly #o: ConnectionGuardOptions;
  readonly #conns = new Map<string, Tracked>();
  readonly #ports = new Set<number>();
  readonly counts: GuardCounts = {
    "header-timeout": 0,
    "idle-timeout": 0,
    "too-many-pending": 0,
    "fd-pressure": 0,
  };
  #sweep: AbortController | null = null;
  /**
   * Set when the server says which connections come and go ({@link connectionsChanged}); then a
   * sweep lists the sockets only when something changed or a connection is not streaming. A
   * listing is a read of /proc/self/fd and a system call per descriptor, a tenth of what the
   * server spent per second with one viewer.
   */
  #told = false;
  #changed = true;
  /** Ends since the last log line, and when that line was written. */
  #unlogged: Partial<GuardCounts> = {};
  #loggedAt = -Infinity;

  /** Nothing runs until `start()`. */
  constructor(options: ConnectionGuardOptions) {
    this.#o = options;
  }

  /** Starts guarding the connections to local `port` (once a second). */
  start(port: number): void {
    this.#ports.add(port);
    if (this.#sweep) return;
    this.#sweep = new AbortController();
    this.#o.clock.every(1000, () => this.sweep(), this.#sweep.signal);
  }

  /**
   * The server accepted or closed a connection. Once called, the guard relies on it: a sweep
   * with no change and every known connection busy with a request skips the socket listing.
   */
  connectionsChanged(): void {
    this.#told = true;
    this.#changed = true;
  }

  /**
   * The server will call {@link connectionsChanged} for every connection it accepts or closes,
   * from the start. Without this, the guard learns it at the first connection, and a server that
   * nobody has connected to yet listed its sockets every second (a read of /proc/self/fd and a
   * system call per descriptor: 0.4 ms/s with no connection at all).
   */
  reported(): void {
    this.#told = true;
  }

  /** Stops the sweep. */
  stop(): void {
    this.#sweep?.abort();
    this.#sweep = null;
  }

  /** Connections the guard knows about (for `/state`). */
  get connections(): number {
    return this.#conns.size;
  }

  /**
   * A request from `remote` began; call the returned function when it is over (a stream ends
   * when the viewer leaves). Idempotent.
   */
  begin(remote: { hostname: string; port: number }): () => void {
    const key = `${normalizeAddress(remote.hostname)}|${remote.port}`;
    const now = this.#o.clock.now();
    let conn = this.#conns.get(key);
    if (!conn) {
      conn = {
        peer: { address: normalizeAddress(remote.hostname), port: remote.port },
        fd: -1,
        firstSeen: now,
        active: 0,
        requests: 0,
        lastActivity: now,
      };
      this.#conns.set(key, conn);
    }
    conn.active++;
    conn.requests++;
    const tracked = conn;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      tracked.active--;
      tracked.lastActivity = this.#o.clock.now();
    };
  }

  /**
   * A reader of the bytes the kernel holds for the connection from `remote` (sent and not yet
   * acknowledged, or not sent yet): a viewer that drains slowly shows as a growing queue. The
   * descriptor is looked up in the guard's table (filled by its sweep), or by a scan of its own
   * the first time it is needed; the reader says null while it is unknown.
   */
  sendQueue(remote: { hostname: string; port: number }): () => number | null {
    const peer = { address: normalizeAddress(remote.hostname), port: remote.port };
    const key = `${peer.address}|${peer.port}`;
    let fd = -1;
    let lookedAt = -Infinity;
    let checkedAt = -Infinity;
    const { table, clock } = this.#o;
    return () => {
      if (fd < 0) {
        fd = this.#conns.get(key)?.fd ?? -1;
        // A scan lists every socket: at most one a second per viewer, the sweep fills in the rest.
        if (fd < 0 && clock.now() - lookedAt >= 1000) {
          lookedAt = clock.now();
          fd = this.#find(peer);
        }
        if (fd < 0) return null;
        checkedAt = clock.now();
      }
      const bytes = table.sendQueue(fd);
      // The descriptor stays this viewer's while its connection is open, and the viewer ends
      // soon after it closes; checking the peer once a second (not per frame: it is a system
      // call) bounds a reused descriptor's effect to a second of pacing.
      if (bytes !== null && bytes > 0 && clock.now() - checkedAt >= 1000) {
        checkedAt = clock.now();
        const now = table.peerOf(fd);
        if (!now || now.port !== peer.port || now.address !== peer.address) {
          fd = -1;
          return null;
        }
      }
      return bytes;
    };
  }

  /** The descriptor of the connection from `peer`, from a scan of the guarded ports; -1 if none. */
  #find(peer: Endpoint): number {
    try {
      for (const port of this.#ports) {
        for (const s of this.#o.table.sockets(port)) {
          if (s.peer?.port === peer.port && s.peer.address === peer.address) return s.fd;
        }
      }
    } catch {
      // Out of descriptors for the listing: the sweep will find it later.
    }
    return -1;
  }

  /** One pass: learns new connections, forgets closed ones, ends the ones over a limit. */
  sweep(): void {
    const { table, clock } = this.#o;
    const now = clock.now();
    if (this.#told && !this.#changed && this.#allBusy()) return this.#report(now);
    this.#changed = false;
    const seen = new Set<string>();
    for (const port of this.#ports) {
      let sockets;
      try {
        sockets = table.sockets(port);
      } catch (err) {
        this.#o.log.warn(`Connection guard: cannot list sockets: ${(err as Error).message}`);
        return;
      }
      for (const s of sockets) {
        if (!s.peer) continue;
        const key = `${s.peer.address}|${s.peer.port}`;
        seen.add(key);
        const conn = this.#conns.get(key);
        if (conn) conn.fd = s.fd;
        else {
          this.#conns.set(key, {
            peer: s.peer,
            fd: s.fd,
            firstSeen: now,
            active: 0,
            requests: 0,
            lastActivity: now,
          });
        }
      }
    }
    for (const [key, conn] of this.#conns) {
      // Gone from the kernel's view (and idle): forget it. A request in flight keeps its entry.
      if (!seen.has(key) && conn.active === 0) this.#conns.delete(key);
    }
    const pending: Tracked[] = [];
    const idle: Tracked[] = [];
    for (const conn of this.#conns.values()) {
      if (conn.active > 0 || conn.fd < 0) continue;
      if (conn.requests === 0) {
        if (now - conn.firstSeen > this.#o.headerTimeoutMs) this.#end(conn, "header-timeout");
        else pending.push(conn);
      } else if (now - conn.lastActivity > this.#o.idleTimeoutMs) {
        this.#end(conn, "idle-timeout");
      } else idle.push(conn);
    }
    pending.sort((a, b) => a.firstSeen - b.firstSeen);
    while (pending.length > this.#o.maxPending) this.#end(pending.shift()!, "too-many-pending");
    this.#relieve(pending, idle);
    this.#report(now);
  }

  /** True when every known connection has a request in progress (nothing to time out). */
  #allBusy(): boolean {
    for (const conn of this.#conns.values()) if (conn.active === 0) return false;
    return true;
  }

  /** One log line per burst: at most every 10 s, with what was ended since the last one. */
  #report(now: number): void {
    const entries = Object.entries(this.#unlogged);
    if (entries.length === 0 || now - this.#loggedAt < 10_000) return;
    const total = entries.reduce((n, [, k]) => n + (k ?? 0), 0);
    const detail = entries.map(([r, k]) => `${k} ${r.replaceAll("-", " ")}`).join(", ");
    this.#o.log.warn(`Closed ${total} connection${total === 1 ? "" : "s"}: ${detail}`);
    this.#unlogged = {};
    this.#loggedAt = now;
  }

  /**
   * Descriptors ran out (the server failed to accept): ends request-less connections, oldest
   * first, then idle ones, until a reserve is free again. Returns how many were ended.
   */
  relieve(): number {
    const before = this.#total();
    this.#changed = true;
    this.sweep();
    const pending = [...this.#conns.values()].filter((c) => c.active === 0 && c.requests === 0);
    const idle = [...this.#conns.values()].filter((c) => c.active === 0 && c.requests > 0);
    pending.sort((a, b) => a.firstSeen - b.firstSeen);
    idle.sort((a, b) => a.lastActivity - b.lastActivity);
    this.#relieve(pending, idle, true);
    this.#report(this.#o.clock.now());
    return this.#total() - before;
  }

  #relieve(pending: Tracked[], idle: Tracked[], force = false): void {
    // Nothing could be ended: no need to count descriptors (a listing of /proc/self/fd).
    if (pending.length === 0 && idle.length === 0) return;
    const limit = this.#o.table.fdLimit()?.soft;
    if (!limit || !Number.isFinite(limit)) return;
    const reserve = this.#o.reserveFds ?? Math.min(64, Math.floor(limit / 8));
    let excess = this.#o.table.countFds() - (limit - reserve);
    if (force) excess = Math.max(excess, 1);
    while (excess > 0 && (pending.length > 0 || idle.length > 0)) {
      this.#end((pending.shift() ?? idle.shift())!, "fd-pressure");
      excess--;
    }
  }

  #total(): number {
    let n = 0;
    for (const k of Object.values(this.counts)) n += k;
    return n;
  }

  #end(conn: Tracked, reason: CloseReason): void {
    if (conn.fd < 0) return;
    if (this.#o.table.shutdown(conn.fd, conn.peer)) {
      this.counts[reason]++;
      this.#unlogged[reason] = (this.#unlogged[reason] ?? 0) + 1;
    }
    conn.fd = -1;
  }
}
