/**
 * tuchuan's HTTP/1.1 server, spoken to over raw sockets on 127.0.0.1: keep-alive and
 * pipelining, HTTP/1.0, HEAD, bodies and `Expect: 100-continue`, refusals that name what is
 * wrong, multipart streams written as they come and cancelled when the viewer hangs up, and a
 * shutdown that closes idle connections and waits for streams. Every read is bounded in bytes
 * and time.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Http1Info, type Http1Server, serveHttp1 } from "../src/net/http1_server.ts";
import { DirectStream } from "../src/net/direct_stream.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");
/** Most bytes a test reads from one connection. */
const READ_BOUND = 1 << 20;

type Handler = (req: Request, info: Http1Info) => Response | Promise<Response>;

async function withServer(
  handler: Handler,
  fn: (port: number, server: Http1Server) => Promise<void>,
) {
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    handler,
    onError: () => new Response("handler failed", { status: 500 }),
    maxHeadBytes: 8 * 1024,
  });
  try {
    await fn(server.addr.port, server);
  } finally {
    await server.shutdown();
  }
}

/** A client connection that reads with bounds: whole responses, or everything until close. */
class Client {
  readonly conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #closed = false;
  readonly #timer: ReturnType<typeof setTimeout>;

  private constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    // A safety bound, not a synchronisation: a hung test fails instead of hanging.
    this.#timer = setTimeout(() => this.close(), 10_000);
  }

  static async open(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async send(text: string | Uint8Array): Promise<void> {
    const bytes = typeof text === "string" ? enc.encode(text) : text;
    let off = 0;
    while (off < bytes.byteLength) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads more; false at the end of the connection. */
  async #more(): Promise<boolean> {
    if (this.#closed) return false;
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk).catch(() => null);
    if (n === null) {
      this.#closed = true;
      return false;
    }
    const next = new Uint8Array(this.#buf.byteLength + n);
    next.set(this.#buf);
    next.set(chunk.subarray(0, n), this.#buf.byteLength);
    this.#buf = next;
    assert.ok(this.#buf.byteLength <= READ_BOUND, "the server sent more than the test's bound");
    return true;
  }

  /** One response: status, lower-cased headers, body by its Content-Length. */
  async response(
    opts: { head?: boolean } = {},
  ): Promise<{ status: number; headers: Map<string, string>; body: string }> {
    for (;;) {
      const text = dec.decode(this.#buf);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        const [line, ...lines] = text.slice(0, end).split("\r\n");
        const headers = new Map<string, string>();
        for (const l of lines) {
          const i = l.indexOf(":");
          headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
        }
        const status = Number(line.split(" ")[1]);
        const length = opts.head || status === 100 || status === 304 || status === 204
          ? 0
          : Number(headers.get("content-length") ?? NaN);
        if (Number.isFinite(length) && this.#buf.byteLength >= end + 4 + length) {
          const body = text.slice(end + 4, end + 4 + length);
          this.#buf = this.#buf.slice(end + 4 + length);
          return { status, headers, body };
        }
        if (!Number.isFinite(length)) throw new Error(`No Content-Length in: ${line}`);
      }
      if (!await this.#more()) throw new Error("Connection closed before a whole response");
    }
  }

  /** Everything until the server closes the connection. */
  async rest(): Promise<string> {
    while (await this.#more());
    const text = dec.decode(this.#buf);
    this.#buf = new Uint8Array(0);
    return text;
  }

  /** Reads until `text` has arrived (at most the bound). */
  async until(text: string): Promise<string> {
    while (!dec.decode(this.#buf).includes(text)) {
      if (!await this.#more()) throw new Error(`Closed before "${text}"`);
    }
    return dec.decode(this.#buf);
  }

  close(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

const hello: Handler = (req) =>
  new Response(`${req.method} ${new URL(req.url).pathname}`, {
    headers: { "content-type": "text/plain", "x-app": "1" },
  });

Deno.test("keep-alive: pipelined requests get their responses in order on one connection", async () => {
  await withServer(hello, async (port) => {
    const c = await Client.open(port);
    await c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    const a = await c.response();
    const b = await c.response();
    assert.deepEqual([a.status, a.body, b.status, b.body], [200, "GET /a", 200, "GET /b"]);
    assert.equal(a.headers.get("content-length"), "6");
    assert.equal(a.headers.get("x-app"), "1");
    assert.match(a.headers.get("date") ?? "", /GMT$/);
    assert.equal(a.headers.has("connection"), false);
    await c.send("GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const last = await c.response();
    assert.equal(last.body, "GET /c");
    assert.equal(last.headers.get("connection"), "close");
    assert.equal(await c.rest(), "", "the connection closes after a Connection: close request");
    c.close();
  });
});

Deno.test("HTTP/1.0 closes after the response; HEAD has no body but keeps the length", async () => {
  await withServer(
    (req) =>
      new Response(req.method === "HEAD" ? null : "0123456789", {
        headers: { "content-length": "10" },
      }),
    async (port) => {
      const old = await Client.open(port);
      await old.send("GET / HTTP/1.0\r\n\r\n");
      const text = await old.rest();
      assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(text, /\r\nconnection: close\r\n/);
      assert.ok(text.endsWith("\r\n\r\n0123456789"));
      old.close();
      const head = await Client.open(port);
      await head.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
      const r = await head.response({ head: true });
      assert.equal(r.headers.get("content-length"), "10");
      assert.equal(r.body, "");
      await head.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal((await head.response()).body, "0123456789", "no stray body after the HEAD");
      head.close();
    },
  );
});

Deno.test("a request body is read by its Content-Length, after a 100 Continue when asked", async () => {
  await withServer(async (req) => new Response(`got ${await req.text()}`), async (port) => {
    const c = await Client.open(port);
    await c.send(
      "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    const cont = await c.response();
    assert.equal(cont.status, 100);
    await c.send("hello");
    const r = await c.response();
    assert.equal(r.body, "got hello");
    await c.send("POST /y HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    assert.equal((await c.response()).body, "got abc", "the connection is reused after a body");
    c.close();
  });
});

Deno.test("malformed requests get a JSON 4xx/5xx naming what is wrong, and the connection closes", async () => {
  const cases: [string, number, RegExp][] = [
    ["GET\r\n\r\n", 400, /request line/i],
    ["GET / HTTP/9.9\r\n\r\n", 400, /HTTP version 9\.9/],
    ["GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400, /header line/i],
    ["GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, /header line/i],
    ["GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/i],
    ["GET / HTTP/1.1\r\nHost: a/b@c\r\n\r\n", 400, /Host/],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, /Content-Length/],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      400,
      /Content-Length/,
    ],
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, /chunked/],
    [`GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(9000)}\r\n\r\n`, 431, /over 8192 bytes/],
  ];
  let handled = 0;
  await withServer(() => {
    handled++;
    return new Response("no");
  }, async (port) => {
    for (const [raw, status, message] of cases) {
      const c = await Client.open(port);
      await c.send(raw).catch(() => {});
      const text = await c.rest();
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
      assert.ok(m, `an answer to ${JSON.stringify(raw.slice(0, 40))}: ${text.slice(0, 80)}`);
      assert.equal(Number(m[1]), status, `${JSON.stringify(raw.slice(0, 40))}: ${m[3]}`);
      assert.match(m[2], /content-type: application\/json/);
      assert.match(JSON.parse(m[3]).error, message);
      c.close();
    }
  });
  assert.equal(handled, 0, "none of them reached the app");
});

Deno.test("a handler that throws gets the onError answer; the server goes on", async () => {
  await withServer((req) => {
    if (new URL(req.url).pathname === "/boom") throw new Error("boom");
    return new Response("fine");
  }, async (port) => {
    const c = await Client.open(port);
    await c.send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
    const a = await c.response();
    const b = await c.response();
    assert.deepEqual([a.status, a.body, b.status, b.body], [500, "handler failed", 200, "fine"]);
    c.close();
  });
});

Deno.test("the handler learns the peer, and completed settles once the response is written", async () => {
  let info: Http1Info | null = null;
  await withServer((_req, i) => {
    info = i;
    return new Response("x");
  }, async (port) => {
    const c = await Client.open(port);
    await c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await c.response();
    assert.ok(info);
    const got = info as Http1Info;
    assert.equal(got.remoteAddr.hostname, "127.0.0.1");
    assert.equal(got.remoteAddr.port, (c.conn.localAddr as Deno.NetAddr).port);
    await got.completed;
    c.close();
  });
});

Deno.test("a multipart stream goes out as it comes, unframed, and a viewer that hangs up cancels it", async () => {
  const cancelled = Promise.withResolvers<unknown>();
  let push: ReadableStreamDefaultController<Uint8Array> | null = null;
  await withServer(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start: (c) => {
          push = c;
          c.enqueue(enc.encode("--b"));
        },
        cancel: (reason) => cancelled.resolve(reason),
      }),
      { headers: { "content-type": "multipart/x-mixed-replace; boundary=b" } },
    ), async (port) => {
    const c = await Client.open(port);
    await c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    const first = await c.until("--b");
    assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(first, /\r\nconnection: close\r\n/);
    assert.doesNotMatch(first, /transfer-encoding|content-length/i);
    assert.ok(first.endsWith("\r\n\r\n--b"), "no chunk framing around the body");
    push!.enqueue(enc.encode("\r\npart one"));
    assert.ok((await c.until("part one")).endsWith("--b\r\npart one"));
    c.close();
    assert.equal(await cancelled.promise, "viewer left");
  });
});

Deno.test("a direct body is written straight from its source; fail() drops the connection", async () => {
  const chunks = ["--b", "\r\nframe 1", "\r\nframe 2"];
  const cancelled: unknown[] = [];
  let stream: DirectStream | null = null;
  const asked = Promise.withResolvers<void>();
  // The next frame never comes; a cancel ends the wait, as the hub's abort does for a viewer.
  const never = Promise.withResolvers<Uint8Array | null>();
  await withServer(() => {
    stream = new DirectStream({
      next: () => {
        const chunk = chunks.shift();
        if (chunk) return Promise.resolve(enc.encode(chunk));
        asked.resolve();
        return never.promise;
      },
      cancel: (reason) => {
        cancelled.push(reason);
        never.resolve(null);
      },
    });
    return new Response(stream, {
      headers: { "content-type": "multipart/x-mixed-replace; boundary=b" },
    });
  }, async (port) => {
    const c = await Client.open(port);
    await c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.ok((await c.until("frame 2")).endsWith("\r\n\r\n--b\r\nframe 1\r\nframe 2"));
    await asked.promise;
    stream!.fail(new Error("send timeout"));
    assert.ok((await c.rest()).endsWith("frame 2"), "the connection closes, nothing more is sent");
    c.close();
  });
  assert.ok(cancelled.length >= 1, "the source hears that its reader is gone");
});

Deno.test("shutdown closes idle keep-alive connections and waits for a stream to end", async () => {
  let end: ReadableStreamDefaultController<Uint8Array> | null = null;
  const server = serveHttp1({
    hostname: "127.0.0.1",
    port: 0,
    handler: (req) =>
      new URL(req.url).pathname === "/stream"
        ? new Response(
          new ReadableStream<Uint8Array>({
            start: (c) => {
              end = c;
              c.enqueue(enc.encode("--b"));
            },
          }),
          { headers: { "content-type": "multipart/x-mixed-replace; boundary=b" } },
        )
        : new Response("ok"),
    onError: () => new Response(null, { status: 500 }),
  });
  const port = server.addr.port;
  const idle = await Client.open(port);
  await idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await idle.response();
  const viewer = await Client.open(port);
  await viewer.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  await viewer.until("--b");
  let done = false;
  const shut = server.shutdown().then(() => done = true);
  assert.equal(await idle.rest(), "", "the idle connection is closed");
  assert.equal(done, false, "shutdown waits for the stream");
  end!.enqueue(enc.encode("--\r\n"));
  end!.close();
  assert.ok((await viewer.rest()).endsWith("--b--\r\n"), "the stream's last bytes arrive");
  await shut;
  await server.finished;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  idle.close();
  viewer.close();
});
