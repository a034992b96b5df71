/**
 * The listening side of the HTTP server: plain HTTP on tuchuan's own HTTP/1.1 server
 * (http1_server.ts, which a stream costs a fraction of what it costs through `Deno.serve`), HTTPS
 * and HTTP/2 on `Deno.serve`; with what both lack for a camera on a LAN:
 * - Running out of file descriptors must not end the server. `Deno.serve` gives up its listener
 *   when an accept fails (EMFILE), and so does ours; connections already open keep working. So the failure is
 *   logged once, the guard frees descriptors (request-less connections first), and the port is
 *   listened on again, with backoff, until it works; then one line says it is back.
 * - Bind errors that name the flag: a port in use, a host that does not resolve.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import { InputError, messageOf } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { ConnectionGuard } from "./connection_guard.ts";
import { serveHttp1 } from "./http1_server.ts";

/** Accept failures less than this apart belong to one burst, reported in one log line. */
const BURST_GAP_MS = 30_000;

/** What to serve, where. */
export interface HttpListenerOptions {
  host: string;
  port: number;
  /** PEM certificate chain and key: HTTPS, with HTTP/2 negotiated by ALPN. */
  tls?: { cert: string; key: string };
  handler: (
    req: Request,
    info: { remoteAddr: Deno.NetAddr; completed: Promise<void> },
  ) => Response | Promise<Response>;
  onError: (err: unknown) => Response | Promise<Response>;
  clock: Clock;
  log: Logger;
  /** Frees descriptors after an accept failure; null where unavailable. */
  guard: ConnectionGuard | null;
}

/** A listening server. */
export interface HttpListener {
  /** Where it listens (the port is the real one when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /** Resolves once `shutdown()` has closed everything. */
  readonly finished: Promise<void>;
  /** Stops listening, waits for open responses to end, and resolves when all is closed. */
  shutdown(): Promise<void>;
}

/** What both servers offer. */
interface Served {
  readonly addr: Deno.NetAddr;
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Turns a bind failure into an error that names the flag to change. */
function bindError(err: unknown, host: string, port: number): Error {
  const msg = messageOf(err);
  if (err instanceof Deno.errors.AddrInUse) {
    return new InputError(
      `Invalid --port ${port}: it is already in use on ${host} (another tuchuan?); choose another port`,
      { cause: err, flag: "--port" },
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new InputError(
      `Invalid --port ${port}: not allowed to listen on it (ports below 1024 need root)`,
      { cause: err, flag: "--port" },
    );
  }
  if (err instanceof Deno.errors.AddrNotAvailable || /lookup|resolve|address/i.test(msg)) {
    return new InputError(`Invalid --host "${host}": cannot listen there (${msg})`, {
      cause: err,
      flag: "--host",
    });
  }
  return err instanceof Error ? err : new Error(msg);
}

/** Starts serving; throws an `InputError` naming `--port` or `--host` when it cannot bind. */
export function listenHttp(o: HttpListenerOptions): HttpListener {
  const servers: Served[] = [];
  const stopping = new AbortController();
  const serve = (port: number): Served => {
    const server: Served = o.tls
      ? Deno.serve({
        hostname: o.host,
        port,
        onListen: () => {},
        onError: o.onError,
        ...o.tls,
      }, o.handler)
      : serveHttp1({
        hostname: o.host,
        port,
        handler: o.handler,
        onError: o.onError,
        onConnection: o.guard ? () => o.guard?.connectionsChanged() : undefined,
      });
    // Our HTTP/1.1 server reports every connection (Deno.serve, for TLS, does not).
    if (!o.tls) o.guard?.reported();
    servers.push(server);
    server.finished.catch((err) => {
      if (!stopping.signal.aborted) relisten(server.addr.port, err);
    });
    return server;
  };

  let relistening = false;
  // One log line per burst of failures: a flood makes accept fail again and again.
  let lastFailure = -Infinity;
  let burstFailures = 0;
  const relisten = async (port: number, err: unknown) => {
    if (relistening) return;
    relistening = true;
    const now = o.clock.now();
    const newBurst = now - lastFailure > BURST_GAP_MS;
    lastFailure = now;
    burstFailures = newBurst ? 1 : burstFailures + 1;
    if (newBurst) {
      o.log.warn(
        `Accepting connections failed (${messageOf(err)}): ending connections that sent no ` +
          `request, then listening on port ${port} again`,
      );
    }
    let delay = 100;
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      o.guard?.relieve();
      try {
        serve(port);
        const line = `Listening on port ${port} again (after ${burstFailures} accept failure${
          burstFailures === 1 ? "" : "s"
        })`;
        if (newBurst) o.log.info(line);
        else o.log.debug(line);
        relistening = false;
        return;
      } catch (e) {
        if (attempt === 1 && newBurst) {
          o.log.warn(`Cannot listen on port ${port} yet: ${messageOf(e)}`);
        }
      }
      try {
        await o.clock.sleep(delay, stopping.signal);
      } catch {
        break;
      }
      delay = Math.min(delay * 2, 2000);
    }
    relistening = false;
  };

  let first: Served;
  try {
    first = serve(o.port);
  } catch (err) {
    throw bindError(err, o.host, o.port);
  }
  const done = Promise.withResolvers<void>();
  let shut: Promise<void> | null = null;
  return {
    addr: first.addr,
    finished: done.promise,
    shutdown() {
      shut ??= (async () => {
        stopping.abort();
        await Promise.allSettled(servers.map((s) => s.shutdown()));
        await Promise.allSettled(servers.map((s) => s.finished));
        done.resolve();
      })();
      return shut;
    },
  };
}
