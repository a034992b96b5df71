/**
 * The load generator: many concurrent `/stream` clients in one Deno process.
 *
 * Each client is a raw HTTP/1.1 GET ({@link rawGet}) whose body goes through the project's own
 * multipart parser, strict for tuchuan and lenient for the seed. Every part is checked to be a
 * complete JPEG; frames, bytes and latency (arrival wall time minus the part's `X-Timestamp`) are
 * counted only inside a measurement window, so connection set-up and warm-up do not skew fps.
 *
 * @module
 */
import { boundaryFromContentType, readMultipart } from "../src/multipart/multipart_reader.ts";
import { ChunkedDecoder } from "./chunked_decoder.ts";
import { captureTimeMs, checkJpegPart, trimmedLength, wallNowMs } from "./part_check.ts";
import { type CountedPart, PartCounter } from "./part_counter.ts";
import {
  type RawConnResponse,
  rawGet,
  rawGetConn,
  type RawGetOptions,
  type RawResponse,
} from "./raw_http.ts";
import { summarize, type Summary } from "./stats.ts";

/** Which stream to load, and how strictly to parse it. */
export interface StreamTarget {
  readonly port: number;
  /** Request path, e.g. `/stream` or `/stream?fps=5`. */
  readonly path: string;
  /** Strict multipart framing and Content-Length checks (tuchuan); lenient for the seed. */
  readonly strict: boolean;
  /**
   * Count parts with {@link PartCounter} (strict framing, JPEG bodies never copied) instead of
   * the project's multipart reader: for runs with more viewers than the full parser can follow
   * on the cores it shares with the server. tuchuan only (it needs Content-Length).
   */
  readonly light?: boolean;
}

/** Message of an unknown thrown value. */
function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens the stream with `get` (either raw GET flavour) and checks the response; throws with the
 * reason when it is not a 200 stream.
 */
async function openStream<R extends { status: number; statusText: string; close(): void }>(
  get: (opts: RawGetOptions) => Promise<R>,
  target: StreamTarget,
  timeoutMs: number,
): Promise<R> {
  const res = await get({ port: target.port, path: target.path, timeoutMs });
  if (res.status !== 200) {
    res.close();
    throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
  }
  return res;
}

/** One stream connection and its counters (a state holder, driven by {@link ClientPool}). */
export class StreamClient {
  /** Frames received inside the current window. */
  frames = 0;
  /** JPEG bytes received inside the current window. */
  bytes = 0;
  /** Parts that were not a complete JPEG, over the client's whole life. */
  badParts = 0;
  /** The first reason a part was bad, for the report. */
  badReason: string | undefined;
  /** Arrival minus capture time of each frame in the window, ms (tuchuan only). */
  readonly latenciesMs: number[] = [];
  /** Why the stream failed or ended early; undefined while healthy. */
  error: string | undefined;
  /** True once the first complete part arrived. */
  gotFrame = false;

  #counting = false;
  #closing = false;
  #closeConnection: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  readonly #target: StreamTarget;

  /** A client for `target`; nothing happens until {@link connect}. */
  constructor(target: StreamTarget) {
    this.#target = target;
  }

  /** Connects and starts consuming parts; resolves once the response head is in, or records why not. */
  async connect(timeoutMs = 10_000): Promise<boolean> {
    return this.#target.light
      ? await this.#start(
        () => openStream(rawGetConn, this.#target, timeoutMs),
        (res) => this.#consumeLight(res),
      )
      : await this.#start(
        () => openStream(rawGet, this.#target, timeoutMs),
        (res) => this.#consume(res),
      );
  }

  /** Opens the response with `open` and hands it to `consume`; a failure to open is recorded. */
  async #start<R extends { close(): void }>(
    open: () => Promise<R>,
    consume: (res: R) => Promise<void>,
  ): Promise<boolean> {
    let res: R;
    try {
      res = await open();
    } catch (err) {
      this.error = message(err);
      return false;
    }
    this.#closeConnection = () => res.close();
    this.#loop = consume(res);
    return true;
  }

  /** One part counted by the light path. */
  #onCounted(part: CountedPart): void {
    const arrived = wallNowMs();
    this.gotFrame = true;
    if (part.bad) {
      this.badParts++;
      this.badReason ??= part.bad;
      return;
    }
    if (!this.#counting) return;
    this.frames++;
    this.bytes += part.bytes;
    if (part.timestampMs !== undefined) this.latenciesMs.push(arrived - part.timestampMs);
  }

  async #consumeLight(res: RawConnResponse): Promise<void> {
    try {
      const boundary = boundaryFromContentType(res.headers.get("content-type") ?? "");
      const counter = new PartCounter(boundary, (p) => this.#onCounted(p));
      const chunked = /\bchunked\b/i.test(res.headers.get("transfer-encoding") ?? "");
      const decoder = chunked ? new ChunkedDecoder() : undefined;
      const feed = (bytes: Uint8Array) => {
        if (!decoder) return counter.push(bytes);
        for (const slice of decoder.push(bytes)) counter.push(slice);
      };
      feed(res.leftover);
      // One buffer per connection, reused for every read: nothing is allocated per frame.
      const buf = new Uint8Array(32 * 1024);
      while (!this.#closing && !counter.ended && !decoder?.done) {
        const n = await res.read(buf);
        if (n === null) break;
        feed(buf.subarray(0, n));
      }
      if (!this.#closing) this.error ??= "stream ended by the server";
    } catch (err) {
      if (!this.#closing) this.error ??= message(err);
    } finally {
      res.close();
    }
  }

  async #consume(res: RawResponse): Promise<void> {
    try {
      const boundary = boundaryFromContentType(res.headers.get("content-type") ?? "");
      const parts = readMultipart(res.body, boundary, { strict: this.#target.strict });
      for await (const { headers, body } of parts) {
        if (this.#closing) break;
        const arrived = wallNowMs();
        this.gotFrame = true;
        const bad = checkJpegPart(headers, body, this.#target.strict);
        if (bad) {
          this.badParts++;
          this.badReason ??= bad;
          continue;
        }
        if (!this.#counting) continue;
        this.frames++;
        // The seed's trailing CR/LF is framing, not picture: count JPEG bytes only.
        this.bytes += this.#target.strict ? body.length : trimmedLength(body);
        const captured = captureTimeMs(headers);
        if (captured !== undefined) this.latenciesMs.push(arrived - captured);
      }
      if (!this.#closing) this.error ??= "stream ended by the server";
    } catch (err) {
      if (!this.#closing) this.error ??= message(err);
    } finally {
      res.close();
    }
  }

  /** Zeroes the window counters and starts counting. */
  beginWindow(): void {
    this.frames = 0;
    this.bytes = 0;
    this.latenciesMs.length = 0;
    this.#counting = true;
  }

  /** Stops counting; the counters keep the window's values. */
  endWindow(): void {
    this.#counting = false;
  }

  /** Closes the connection and waits for the read loop to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#counting = false;
    this.#closeConnection?.();
    await this.#loop;
  }
}

/** What a window of load measured, over all clients. */
export interface LoadReport {
  readonly clients: number;
  /** Clients whose request was answered with a stream. */
  readonly connected: number;
  /** Length of the measurement window, seconds. */
  readonly windowSeconds: number;
  /** Frames per second of each client over the window (0 for a failed client). */
  readonly perClientFps: number[];
  readonly fps: Summary;
  readonly totalFrames: number;
  readonly totalBytes: number;
  readonly badParts: number;
  /** Distinct error messages and bad-part reasons, with counts, for the notes. */
  readonly problems: string[];
  /** Latency over all frames of all clients, ms; `count` is 0 when the server sends no timestamp. */
  readonly latencyMs: Summary;
}

/** Tallies messages into "message (xN)" lines, most frequent first. */
function tally(messages: string[]): string[] {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([m, n]) => (n > 1 ? `${m} (x${n})` : m));
}

/** N stream clients opened together and measured over one window. */
export class ClientPool {
  readonly clients: StreamClient[];
  #windowStart = 0;
  #windowEnd = 0;

  private constructor(clients: StreamClient[]) {
    this.clients = clients;
  }

  /**
   * Opens `count` clients, at most `concurrency` connecting at once: a burst of hundreds of SYNs
   * overflows a small listen backlog (werkzeug's is 128) and costs a 1 s retransmit that would
   * be measured as server slowness.
   */
  static async open(target: StreamTarget, count: number, concurrency = 16): Promise<ClientPool> {
    const clients = Array.from({ length: count }, () => new StreamClient(target));
    let next = 0;
    const worker = async () => {
      while (next < clients.length) await clients[next++].connect();
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return new ClientPool(clients);
  }

  /** Number of clients whose stream is open. */
  get connected(): number {
    return this.clients.filter((c) => c.error === undefined).length;
  }

  /** Starts the measurement window on every client at once. */
  beginWindow(): void {
    for (const c of this.clients) c.beginWindow();
    this.#windowStart = performance.now();
  }

  /** Ends the window and summarises it. */
  endWindow(): LoadReport {
    this.#windowEnd = performance.now();
    for (const c of this.clients) c.endWindow();
    const seconds = (this.#windowEnd - this.#windowStart) / 1000;
    const perClientFps = this.clients.map((c) => c.frames / seconds);
    const latencies: number[] = [];
    for (const c of this.clients) for (const l of c.latenciesMs) latencies.push(l);
    const problems = tally([
      ...this.clients.flatMap((c) => (c.error ? [c.error] : [])),
      ...this.clients.flatMap((c) => (c.badReason ? [`bad part: ${c.badReason}`] : [])),
    ]);
    return {
      clients: this.clients.length,
      connected: this.connected,
      windowSeconds: seconds,
      perClientFps,
      fps: summarize(perClientFps),
      totalFrames: this.clients.reduce((n, c) => n + c.frames, 0),
      totalBytes: this.clients.reduce((n, c) => n + c.bytes, 0),
      badParts: this.clients.reduce((n, c) => n + c.badParts, 0),
      problems,
      latencyMs: summarize(latencies),
    };
  }

  /** Closes every client. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

/** Outcome of one connect-to-first-frame cycle. */
export interface FirstFrame {
  /** Milliseconds from before `connect()` to the first complete part. */
  readonly ms: number;
  /** Why the first part was not a complete JPEG, or null. */
  readonly bad: string | null;
}

/**
 * Connects, waits for the first complete part, closes: the time a viewer waits for a picture.
 * Throws when no part arrives within `timeoutMs`.
 */
export async function timeToFirstFrame(
  target: StreamTarget,
  timeoutMs = 5000,
): Promise<FirstFrame> {
  const t0 = performance.now();
  const res = await openStream(rawGet, target, timeoutMs);
  const timer = setTimeout(() => res.close(), Math.max(1, timeoutMs - (performance.now() - t0)));
  try {
    const boundary = boundaryFromContentType(res.headers.get("content-type") ?? "");
    for await (const { headers, body } of readMultipart(res.body, boundary, target)) {
      const ms = performance.now() - t0;
      return { ms, bad: checkJpegPart(headers, body, target.strict) };
    }
    throw new Error("stream ended before the first frame");
  } catch (err) {
    if (performance.now() - t0 >= timeoutMs) throw new Error(`no frame within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    res.close();
  }
}
