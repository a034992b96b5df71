/**
 * A minimal HTTP/1.1 GET over `Deno.connect`, for the load client.
 *
 * `fetch` costs a lot per connection (pooling, header objects, body plumbing) and hides what the
 * server really sent; with hundreds of streams in one process the client must stay cheap and see
 * the raw response. This writes the request by hand, parses the status line and headers itself,
 * and hands back the body as a `ReadableStream` with the transfer coding removed. It only ever
 * talks to 127.0.0.1: the benchmark must never load anything but the local machine.
 *
 * @module
 */
import { ChunkedDecoder } from "./chunked_decoder.ts";

/** The only host the benchmark talks to. */
export const LOOPBACK = "127.0.0.1";

/** Largest response head accepted; anything bigger is not a server we are benchmarking. */
const MAX_HEAD_BYTES = 64 * 1024;

/** A response whose body has not been read yet. */
export interface RawResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** The payload, de-chunked; pulled from the socket only as fast as it is read. */
  readonly body: ReadableStream<Uint8Array>;
  /** Closes the connection; safe to call more than once and while a read is pending. */
  close(): void;
}

/** What to request. */
export interface RawGetOptions {
  readonly port: number;
  readonly path: string;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Deadline for connecting and receiving the response head (default 10 s). */
  readonly timeoutMs?: number;
}

/** Index of the first CRLFCRLF in `buf`, or -1. */
function findHeadEnd(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 0x0a && buf[i - 1] === 0x0d && buf[i - 2] === 0x0a && buf[i - 3] === 0x0d) {
      return i - 3;
    }
  }
  return -1;
}

/** Concatenates byte arrays (only used for the response head, which is small). */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Parses `HTTP/1.1 200 OK\r\nName: value\r\n...` (without the final blank line). */
export function parseResponseHead(
  head: string,
): { status: number; statusText: string; headers: Headers } {
  const lines = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0].slice(0, 100))}`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`bad header line: ${JSON.stringify(line.slice(0, 100))}`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), statusText: m[2] ?? "", headers };
}

/** A connection that closes once, whoever asks first: the deadline, the caller, the body's end. */
interface OnceClosed {
  readonly closed: boolean;
  readonly close: () => void;
}

/** Wraps `conn` in {@link OnceClosed}; `release` runs first (e.g. cancels a pending read). */
function closeOnce(conn: Deno.TcpConn, release?: () => void): OnceClosed {
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    close: () => {
      if (closed) return;
      closed = true;
      release?.();
      try {
        conn.close();
      } catch {
        // Already closed (by the stream machinery).
      }
    },
  };
}

/**
 * Sends `GET path` on `conn` and runs `readHead` under the request's deadline: on a timeout the
 * connection is closed (which fails the pending read), and every failure closes it and names the
 * request.
 */
async function sendGet<T>(
  opts: RawGetOptions,
  conn: Deno.TcpConn,
  link: OnceClosed,
  readHead: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const timer = setTimeout(() => {
    timedOut = true;
    link.close();
  }, timeoutMs);
  try {
    conn.setNoDelay(true);
    const extra = Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const request = `GET ${opts.path} HTTP/1.1\r\nHost: ${LOOPBACK}:${opts.port}\r\n` +
      `User-Agent: tuchuan-bench\r\nAccept: */*\r\nConnection: close\r\n${extra}\r\n`;
    const bytes = new TextEncoder().encode(request);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    const result = await readHead();
    clearTimeout(timer);
    return result;
  } catch (err) {
    clearTimeout(timer);
    link.close();
    const why = timedOut ? `no response head within ${timeoutMs} ms` : String(
      err instanceof Error ? err.message : err,
    );
    throw new Error(`GET ${opts.path} on ${LOOPBACK}:${opts.port}: ${why}`);
  }
}

/** Sends `GET path` to 127.0.0.1:`port` and resolves once the response head has arrived. */
export async function rawGet(opts: RawGetOptions): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: LOOPBACK, port: opts.port });
  const reader = conn.readable.getReader();
  // Cancelling the reader releases the pending read; closing the conn frees the socket.
  const link = closeOnce(conn, () => reader.cancel().catch(() => {}));
  return await sendGet(opts, conn, link, async () => {
    let buf: Uint8Array = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const { value, done } = await reader.read();
      if (done || link.closed) throw new Error("connection closed before the response head");
      buf = concat(buf, value);
      end = findHeadEnd(buf);
      if (end < 0 && buf.length > MAX_HEAD_BYTES) throw new Error("response head too large");
    }
    const head = parseResponseHead(new TextDecoder("latin1").decode(buf.subarray(0, end)));
    const leftover = buf.subarray(end + 4);
    return {
      ...head,
      body: bodyStream(reader, head.headers, leftover, link.close),
      close: link.close,
    };
  });
}

/** The body after the head: de-chunked, or bounded by Content-Length, or read until EOF. */
function bodyStream(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  headers: Headers,
  leftover: Uint8Array,
  close: () => void,
): ReadableStream<Uint8Array> {
  const chunked = /\bchunked\b/i.test(headers.get("transfer-encoding") ?? "");
  const lengthHeader = headers.get("content-length");
  let remaining = !chunked && lengthHeader !== null ? Number(lengthHeader) : Infinity;
  const decoder = chunked ? new ChunkedDecoder() : undefined;
  let finished = false;

  // Enqueues the payload in `raw`; returns how many slices were enqueued.
  const feed = (raw: Uint8Array, controller: ReadableStreamDefaultController<Uint8Array>) => {
    let n = 0;
    if (decoder) {
      for (const part of decoder.push(raw)) {
        controller.enqueue(part);
        n++;
      }
      finished = decoder.done;
    } else {
      const take = raw.length <= remaining ? raw : raw.subarray(0, remaining);
      remaining -= take.length;
      if (take.length) {
        controller.enqueue(take);
        n++;
      }
      finished = remaining === 0;
    }
    return n;
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (leftover.length) feed(leftover, controller);
      if (finished) controller.close();
    },
    async pull(controller) {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (err) {
          controller.error(err);
          close();
          return;
        }
        if (result.done) {
          // EOF is the normal end without Content-Length; elsewhere the server cut us off.
          if (decoder || Number.isFinite(remaining)) {
            controller.error(new Error("connection closed in the middle of the body"));
          } else {
            controller.close();
          }
          close();
          return;
        }
        let n: number;
        try {
          n = feed(result.value, controller);
        } catch (err) {
          controller.error(err);
          close();
          return;
        }
        if (finished) {
          controller.close();
          close();
          return;
        }
        if (n > 0) return;
      }
    },
    cancel() {
      close();
    },
  });
}

/** A small response read to the end. */
export interface TextResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** GETs `path` and reads the whole body as text (for /healthz and /state), within `timeoutMs`. */
export async function rawGetText(
  port: number,
  path: string,
  timeoutMs = 5000,
): Promise<TextResponse> {
  const res = await rawGet({ port, path, timeoutMs });
  const timer = setTimeout(() => res.close(), timeoutMs);
  try {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > 4 * 1024 * 1024) throw new Error(`${path}: response body too large`);
    }
    const all = new Uint8Array(size);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    return { status: res.status, headers: res.headers, text: new TextDecoder().decode(all) };
  } finally {
    clearTimeout(timer);
    res.close();
  }
}

/** A response whose body is to be read from the connection itself, into the caller's buffer. */
export interface RawConnResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  /** Body bytes that arrived with the head. */
  readonly leftover: Uint8Array;
  /** Reads the next body bytes into `buf`; null at EOF or once closed. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Closes the connection; safe to call more than once and while a read is pending. */
  close(): void;
}

/**
 * {@link rawGet} without the `ReadableStream` layers: the body is read with `conn.read` into a
 * buffer the caller reuses, so a load client with a thousand streams allocates nothing per read.
 * The transfer coding is left to the caller.
 */
export async function rawGetConn(opts: RawGetOptions): Promise<RawConnResponse> {
  const conn = await Deno.connect({ hostname: LOOPBACK, port: opts.port });
  const link = closeOnce(conn);
  return await sendGet(opts, conn, link, async () => {
    const buf = new Uint8Array(MAX_HEAD_BYTES);
    let filled = 0;
    let end = -1;
    while (end < 0) {
      if (filled === buf.length) throw new Error("response head too large");
      const n = await conn.read(buf.subarray(filled));
      if (n === null || link.closed) {
        throw new Error("connection closed before the response head");
      }
      filled += n;
      end = findHeadEnd(buf.subarray(0, filled));
    }
    const head = parseResponseHead(new TextDecoder("latin1").decode(buf.subarray(0, end)));
    return {
      ...head,
      leftover: buf.slice(end + 4, filled),
      read: async (into) => {
        if (link.closed) return null;
        try {
          return await conn.read(into);
        } catch (err) {
          if (link.closed) return null;
          throw err;
        }
      },
      close: link.close,
    };
  });
}
