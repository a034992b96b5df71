/**
 * tuchuan's own HTTP/1.1 server for plain HTTP, over `Deno.listen`: parses requests into
 * `Request`s for the Hono app and writes its `Response`s, as Hono's own adapters do for other
 * runtimes. HTTPS (and HTTP/2) stays on `Deno.serve`.
 *
 * Why not `Deno.serve` here too: a camera streamer writes one part per frame to every viewer,
 * and Deno.serve's path for a streaming body (the body's `ReadableStream` handed to hyper, a
 * per-connection state machine, chunked framing) is its cost. Measured on this 2-core machine,
 * streaming one cached 21 KB part 30 times a second: one viewer 15.5 ms/s of CPU through
 * Deno.serve against 12 through `conn.write`; 200 viewers 169 against 117 ms/s, and 65 against
 * 49 MB RSS (BENCHMARKS.md). The stream is what a small board spends its CPU on.
 *
 * What it does:
 * - HTTP/1.0 and 1.1, keep-alive and pipelining (one request at a time per connection);
 * - bounds: the request head (line and headers) within `maxHeadBytes` (431 beyond), at most
 *   100 header lines, a request body only with a valid `Content-Length` (411 for chunked
 *   request bodies, which no camera client sends), malformed requests answered 400 and closed;
 * - `Expect: 100-continue`;
 * - a `multipart/x-mixed-replace` response (`/stream`) goes out as it comes, without chunked
 *   framing, and ends with the connection, as MJPEG servers have always sent it (mjpg-streamer,
 *   ustreamer; RFC 9112 §6.3: a response without a length ends at close). A viewer that hangs
 *   up is noticed by a read on its connection, which cancels the body at once;
 * - any other response body is read whole and sent with its `Content-Length`.
 *
 * Header and idle timeouts, and the cap on request-less connections, are the connection
 * guard's (connection_guard.ts), for this server and Deno.serve alike.
 *
 * @module
 */
import { concatBytes } from "../core/concat_bytes.ts";
import { messageOf } from "../core/errors.ts";
import { type DirectSource, DirectStream } from "./direct_stream.ts";

/** What the handler learns of the connection, as `Deno.ServeHandlerInfo` has it. */
export interface Http1Info {
  /** The client's address. */
  remoteAddr: Deno.NetAddr;
  /** Settles when the response has been written whole, or the connection is gone. */
  completed: Promise<void>;
}

/** Options of {@link serveHttp1}. */
export interface Http1ServerOptions {
  hostname: string;
  port: number;
  handler: (req: Request, info: Http1Info) => Response | Promise<Response>;
  /** Answers a request whose handler threw. */
  onError: (err: unknown) => Response | Promise<Response>;
  /** Longest request head (request line and headers), in bytes. */
  maxHeadBytes?: number;
  /** Longest buffered response body (every response but a multipart stream), in bytes. */
  maxResponseBytes?: number;
  /** Called when a connection is accepted and when one is closed (the connection guard's cue). */
  onConnection?: () => void;
}

/** The listening server, shaped like `Deno.HttpServer` where tuchuan uses it. */
export interface Http1Server {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /**
   * Resolves after `shutdown()` once every connection is closed; rejects when accepting fails
   * (out of descriptors), like Deno.serve. Connections already open keep being served.
   */
  readonly finished: Promise<void>;
  /** Stops accepting, closes idle connections, waits for responses in progress to end. */
  shutdown(): Promise<void>;
}

/** Default bound on a request head: hyper's is about as large, and no camera client comes near. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Most header lines in a request (hyper's bound too). */
export const MAX_HEADERS = 100;
/** Default bound on a buffered response body (a PNG snapshot of an 8K frame stays under it). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Most bytes a request body chunk is read in. */
const READ_CHUNK = 16 * 1024;
/** A connection's first read buffer: a camera client's request is a few hundred bytes. */
const FIRST_BUFFER = 4 * 1024;
const STREAM_TYPE = /^multipart\/x-mixed-replace/i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A request target: visible ASCII only (no spaces, controls or raw non-ASCII bytes).
const TARGET = /^[\x21-\x7e]+$/;
// A header value: visible characters, spaces, tabs and obs-text; no controls.
// deno-lint-ignore no-control-regex -- control characters are exactly what it looks for
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// A Host header: a name or an address, and a port (RFC 9110 §7.2), nothing that moves the path.
const HOST = /^([A-Za-z0-9.\-_~%]*|\[[0-9A-Za-z:.%]+\])(:\d{0,5})?$/;
const encoder = new TextEncoder();

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** A request the server refuses before the app sees it: status and a sentence why. */
export class HttpParseError extends Error {
  /** The status to answer with. */
  readonly status: number;
  /** @param status the answer's status; @param message why, in a sentence */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpParseError";
    this.status = status;
  }
}

/** A parsed request head. */
export interface RequestHead {
  method: string;
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  headers: [string, string][];
}

/**
 * Parses a request head (everything before the blank line, without it). Throws
 * {@link HttpParseError} for what HTTP/1.1 does not allow.
 */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split("\r\n");
  const line = lines[0];
  const parts = line.split(" ");
  if (parts.length !== 3) {
    throw new HttpParseError(400, `Malformed request line "${line.slice(0, 80)}"`);
  }
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) throw new HttpParseError(400, `Invalid method "${method.slice(0, 20)}"`);
  if (!TARGET.test(target)) throw new HttpParseError(400, "Invalid request target");
  const v = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!v) throw new HttpParseError(400, `Invalid HTTP version "${version.slice(0, 20)}"`);
  if (v[1] !== "1" || (v[2] !== "0" && v[2] !== "1")) {
    // 400 rather than 505: a 5xx reads as the server failing, in logs and in monitoring.
    throw new HttpParseError(400, `HTTP version ${v[1]}.${v[2]} is not supported`);
  }
  if (lines.length - 1 > MAX_HEADERS) {
    throw new HttpParseError(431, `More than ${MAX_HEADERS} header lines`);
  }
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const h = lines[i];
    const colon = h.indexOf(":");
    const name = colon > 0 ? h.slice(0, colon) : "";
    // No space before the colon (RFC 9112 §5.1) and no folded lines (§5.2).
    if (!TOKEN.test(name)) {
      throw new HttpParseError(400, `Malformed header line "${h.slice(0, 40)}"`);
    }
    const value = h.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) {
      throw new HttpParseError(400, `Invalid value of header ${name}`);
    }
    headers.push([name, value]);
  }
  return { method, target, minor: v[2] === "1" ? 1 : 0, headers };
}

/** How a request's body is framed: none, or this many bytes. Throws for what is not allowed. */
export function requestBodyLength(headers: [string, string][]): number {
  let length: string | null = null;
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    if (n === "transfer-encoding") {
      throw new HttpParseError(
        411,
        "Request bodies in chunked transfer encoding are not accepted; send a Content-Length",
      );
    }
    if (n === "content-length") {
      for (const v of value.split(",")) {
        const t = v.trim();
        if (!/^\d{1,15}$/.test(t) || (length !== null && t !== length)) {
          throw new HttpParseError(400, `Invalid Content-Length "${value.slice(0, 20)}"`);
        }
        length = t;
      }
    }
  }
  return length === null ? 0 : Number(length);
}

/** The value of a header (first occurrence, case-insensitive), or null. */
function headerOf(headers: [string, string][], name: string): string | null {
  for (const [n, v] of headers) if (n.toLowerCase() === name) return v;
  return null;
}

/** True when the connection stays open after this request (RFC 9112 §9.3). */
function wantsKeepAlive(head: RequestHead): boolean {
  const tokens = (headerOf(head.headers, "connection") ?? "").toLowerCase().split(",").map((t) =>
    t.trim()
  );
  if (tokens.includes("close")) return false;
  return head.minor === 1 || tokens.includes("keep-alive");
}

let dateSecond = -1;
let dateValue = "";
/** The `Date` header value, made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** Bytes read from a connection and not used yet. */
class ConnReader {
  #buf = new Uint8Array(FIRST_BUFFER);
  #start = 0;
  #end = 0;
  #eof = false;
  readonly #conn: Deno.Conn;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Bytes buffered and not taken. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Reads more from the connection; false at its end (or when it broke). */
  async fill(): Promise<boolean> {
    if (this.#eof) return false;
    const live = this.#end - this.#start;
    if (live === 0) this.#start = this.#end = 0;
    else if (this.#buf.byteLength - this.#end < FIRST_BUFFER / 4) {
      // Little room left: move what is unread to the front, into a larger buffer if need be
      // (a head grows it at most to its bound and a chunk).
      const next = live + FIRST_BUFFER <= this.#buf.byteLength
        ? this.#buf
        : new Uint8Array(2 * (live + FIRST_BUFFER));
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    let n: number | null;
    try {
      n = await this.#conn.read(this.#buf.subarray(this.#end));
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /**
   * The next request head as text (latin1, without the blank line), or null when the
   * connection ends first. Leading empty lines are skipped (RFC 9112 §2.2). Throws 431 past
   * `max` bytes.
   */
  async head(max: number): Promise<string | null> {
    let scanFrom = 0;
    for (;;) {
      while (
        this.buffered >= 2 && this.#buf[this.#start] === 13 && this.#buf[this.#start + 1] === 10
      ) {
        this.#start += 2;
        scanFrom = 0;
      }
      const b = this.#buf;
      for (let i = this.#start + Math.max(0, scanFrom - 3); i + 3 < this.#end; i++) {
        if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
          if (i - this.#start > max) {
            throw new HttpParseError(431, `Request head over ${max} bytes`);
          }
          const text = latin1(b.subarray(this.#start, i));
          this.#start = i + 4;
          return text;
        }
      }
      scanFrom = this.buffered;
      if (this.buffered > max) throw new HttpParseError(431, `Request head over ${max} bytes`);
      if (!await this.fill()) {
        if (this.buffered > 0) {
          throw new HttpParseError(400, "Connection closed inside a request head");
        }
        return null;
      }
    }
  }

  /** Drops what is buffered and reads more into the same buffer; false at the end. */
  discard(): Promise<boolean> {
    this.#start = this.#end = 0;
    return this.fill();
  }

  /** Up to `max` buffered bytes (a copy), reading when nothing is buffered; null at the end. */
  async take(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && !await this.fill()) return null;
    const n = Math.min(max, this.buffered);
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.byteLength; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, bytes.byteLength)));
  }
  return s;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/** Writes all of `bytes` (a write may take only part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) {
    off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
  }
}

/** A request body that reads exactly `length` bytes from the connection, as they come. */
function bodyStream(
  reader: ConnReader,
  length: number,
  onDone: () => void,
): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await reader.take(Math.min(left, READ_CHUNK));
      if (chunk === null) {
        controller.error(new HttpParseError(400, "Connection closed inside a request body"));
        return;
      }
      left -= chunk.byteLength;
      controller.enqueue(chunk);
      if (left === 0) {
        controller.close();
        onDone();
      }
    },
  }, { highWaterMark: 0 });
}

/** Headers the server writes itself, whatever the app's response says. */
const OWN_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "date"]);

/**
 * The status line and header block of a response. `ownLength` drops the app's Content-Length,
 * for a body whose length the server writes itself.
 */
function headBytes(status: number, headers: Headers, extra: string, ownLength = false): Uint8Array {
  let s = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of headers) {
    if (name === "set-cookie" || OWN_HEADERS.has(name)) continue;
    if (ownLength && name === "content-length") continue;
    s += `${name}: ${value}\r\n`;
  }
  for (const cookie of headers.getSetCookie()) s += `set-cookie: ${cookie}\r\n`;
  s += `date: ${httpDate()}\r\n${extra}\r\n`;
  return encoder.encode(s);
}

/** A plain stream as a {@link DirectSource}: its reader's chunks, then null. */
function readerSource(body: ReadableStream<Uint8Array>): DirectSource {
  const reader = body.getReader();
  return {
    next: async () => {
      const { value, done } = await reader.read();
      return done ? null : value;
    },
    cancel: (reason) => {
      reader.cancel(reason).catch(() => {});
    },
  };
}

/** Reads a finite body whole, up to `max` bytes. */
async function readWhole(body: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new RangeError(`Response body over ${max} bytes`);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/** An answer the server makes itself (a refused request): JSON naming why, then close. */
function refusal(err: HttpParseError): Uint8Array {
  const body = JSON.stringify({ error: err.message });
  const head = headBytes(
    err.status,
    new Headers({ "content-type": "application/json; charset=utf-8" }),
    `content-length: ${encoder.encode(body).byteLength}\r\nconnection: close\r\n`,
  );
  const b = encoder.encode(body);
  const out = new Uint8Array(head.byteLength + b.byteLength);
  out.set(head, 0);
  out.set(b, head.byteLength);
  return out;
}

/** Serves HTTP/1.1 on `hostname:port`. Throws as `Deno.listen` does when it cannot bind. */
export function serveHttp1(o: Http1ServerOptions): Http1Server {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
  const maxHead = o.maxHeadBytes ?? MAX_HEAD_BYTES;
  const maxResponse = o.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const addr = listener.addr as Deno.NetAddr;
  const open = new Set<Promise<void>>();
  /** Connections waiting for their next request: closed at once on shutdown. */
  const idle = new Set<Deno.Conn>();
  let stopping = false;
  const finished = Promise.withResolvers<void>();
  // A rejection nobody waits for yet must not end the process.
  finished.promise.catch(() => {});

  const serveConn = async (conn: Deno.TcpConn): Promise<void> => {
    try {
      conn.setNoDelay(true);
    } catch {
      // Closed already.
    }
    const reader = new ConnReader(conn);
    const remoteAddr = conn.remoteAddr as Deno.NetAddr;
    try {
      while (!stopping) {
        idle.add(conn);
        let text: string | null;
        let head: RequestHead;
        let length: number;
        try {
          text = await reader.head(maxHead);
          idle.delete(conn);
          if (text === null) return;
          head = parseRequestHead(text);
          length = requestBodyLength(head.headers);
        } catch (err) {
          idle.delete(conn);
          if (err instanceof HttpParseError) await writeAll(conn, refusal(err)).catch(() => {});
          return;
        }
        if (!await exchange(conn, reader, head, length, remoteAddr)) return;
      }
    } finally {
      idle.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
  };

  /** One request and its response; true when the connection can take another. */
  const exchange = async (
    conn: Deno.TcpConn,
    reader: ConnReader,
    head: RequestHead,
    length: number,
    remoteAddr: Deno.NetAddr,
  ): Promise<boolean> => {
    const completed = Promise.withResolvers<void>();
    completed.promise.catch(() => {});
    let keepAlive = wantsKeepAlive(head);
    const gone = new AbortController();
    try {
      const given = headerOf(head.headers, "host");
      if (given !== null && !HOST.test(given)) {
        await writeAll(conn, refusal(new HttpParseError(400, "Invalid Host header")));
        return false;
      }
      const host = given ||
        `${addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname}:${addr.port}`;
      let url: URL;
      try {
        url = head.target.startsWith("/")
          ? new URL(`http://${host}${head.target}`)
          : new URL(head.target);
      } catch {
        await writeAll(conn, refusal(new HttpParseError(400, "Invalid request target or Host")));
        return false;
      }
      if (length > 0 && headerOf(head.headers, "expect")?.toLowerCase() === "100-continue") {
        await writeAll(conn, encoder.encode("HTTP/1.1 100 Continue\r\n\r\n"));
      }
      let bodyDone = length === 0;
      const hasBody = length > 0 && head.method !== "GET" && head.method !== "HEAD";
      let request: Request;
      try {
        request = new Request(url, {
          method: head.method,
          headers: head.headers,
          body: hasBody ? bodyStream(reader, length, () => bodyDone = true) : null,
          signal: gone.signal,
        });
      } catch (err) {
        await writeAll(conn, refusal(new HttpParseError(400, messageOf(err))));
        return false;
      }
      // A GET with a body: nobody reads it, so the connection cannot be reused.
      if (!hasBody && length > 0) keepAlive = false;
      let response: Response;
      try {
        response = await o.handler(request, { remoteAddr, completed: completed.promise });
      } catch (err) {
        response = await o.onError(err);
      }
      if (!bodyDone) keepAlive = false;
      if (stopping) keepAlive = false;
      const status = response.status;
      const headers = response.headers;
      const noBody = head.method === "HEAD" || status === 204 || status === 304 || status < 200;
      if (response.body && !noBody) {
        // A direct body is written as its source makes it; any other multipart stream goes the
        // same way through a reader. Both end with the connection.
        const direct = response.body instanceof DirectStream
          ? response.body.take(() => closeQuietly(conn))
          : null;
        const source = direct ??
          (STREAM_TYPE.test(headers.get("content-type") ?? "")
            ? readerSource(response.body)
            : null);
        if (source) {
          await pump(
            conn,
            reader,
            source,
            headBytes(status, headers, "connection: close\r\n"),
            gone,
          );
          return false;
        }
      }
      let body: Uint8Array | null = null;
      if (response.body) {
        if (noBody) await response.body.cancel();
        else body = await readWhole(response.body, maxResponse);
      }
      let extra = keepAlive ? "" : "connection: close\r\n";
      // HEAD keeps the app's Content-Length (of what GET would send); 204 and 304 have none.
      if (!noBody) extra += `content-length: ${body?.byteLength ?? 0}\r\n`;
      const top = headBytes(status, headers, extra, !noBody);
      if (body && body.byteLength > 0) {
        if (body.byteLength <= 64 * 1024) {
          const out = new Uint8Array(top.byteLength + body.byteLength);
          out.set(top, 0);
          out.set(body, top.byteLength);
          await writeAll(conn, out);
        } else {
          await writeAll(conn, top);
          await writeAll(conn, body);
        }
      } else await writeAll(conn, top);
      return keepAlive;
    } catch {
      // The connection broke, or a body could not be read: nothing more can be said on it.
      return false;
    } finally {
      gone.abort();
      completed.resolve();
    }
  };

  /** Writes a streamed body (a `/stream` viewer) as its source makes it, until either side ends. */
  const pump = async (
    conn: Deno.TcpConn,
    reader: ConnReader,
    source: DirectSource,
    top: Uint8Array,
    gone: AbortController,
  ): Promise<void> => {
    // The viewer sends nothing more; a read that ends means it left. What it does send is
    // dropped, a chunk at a time.
    (async () => {
      while (await reader.discard()) { /* dropped */ }
      gone.abort();
      source.cancel("viewer left");
    })();
    try {
      await writeAll(conn, top);
      for (;;) {
        const chunk = await source.next();
        if (chunk === null) break;
        // One write takes a whole part nearly always; the rest, if any, goes in a loop.
        const n = await conn.write(chunk);
        if (n < chunk.byteLength) await writeAll(conn, chunk.subarray(n));
      }
    } catch {
      // Written to a closed connection (or one the body's failure closed), or the stream erred.
      source.cancel("connection closed");
    }
  };

  const acceptLoop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept() as Deno.TcpConn;
      } catch (err) {
        if (stopping) return;
        try {
          listener.close();
        } catch {
          // Closed already.
        }
        finished.reject(err);
        return;
      }
      if (stopping) {
        conn.close();
        return;
      }
      o.onConnection?.();
      const served = serveConn(conn).catch(() => {}).finally(() => o.onConnection?.());
      open.add(served);
      served.finally(() => open.delete(served));
    }
  })();

  let shut: Promise<void> | null = null;
  return {
    addr,
    finished: finished.promise,
    shutdown() {
      shut ??= (async () => {
        stopping = true;
        try {
          listener.close();
        } catch {
          // Closed when accepting failed.
        }
        await acceptLoop;
        for (const conn of idle) {
          try {
            conn.close();
          } catch {
            // Closed meanwhile.
          }
        }
        while (open.size > 0) await Promise.allSettled([...open]);
        finished.resolve();
      })();
      return shut;
    },
  };
}
