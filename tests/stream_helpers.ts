/**
 * Helpers for the integration tests: a `/stream` watcher that parses every part strictly,
 * bounded polling, `/state` access, process inspection through /proc, and spawning `main.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { boundaryFromContentType, readMultipart } from "../src/multipart/multipart_reader.ts";

/** The `/state` fields the tests read. */
export interface State {
  source: {
    kind: string;
    input: string;
    online: boolean;
    reason: string;
    running: boolean;
    width: number;
    height: number;
    fps: number;
  };
  clients: number;
  viewers: { id: number; framesSent: number; bytesSent: number }[];
  paused: boolean;
  frames: {
    captured: number;
    published: number;
    dropped: { busy: number; corrupt: number; same: number; error: number };
  };
  restarts: number;
}

/**
 * Polls `cond` every `options.everyMs` (25 ms by default) until it returns a truthy value,
 * failing after `timeoutMs` with `options.details()` appended (the state that explains why).
 * Returns that value.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  options: { details?: () => string | Promise<string>; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) {
      const more = options.details ? `\n${await options.details()}` : "";
      assert.fail(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}${more}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 25));
  }
}

/** GET `/state` as JSON. */
export async function getState(base: string, init?: RequestInit): Promise<State> {
  const res = await fetch(new URL("state", base), init);
  assert.equal(res.status, 200, `/state answered ${res.status}`);
  return await res.json();
}

/** A response's body as text (consumed, so the sanitizers stay quiet) with its status. */
export async function fetchText(
  url: string | URL,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** One part received on a stream. */
export interface Part {
  body: Uint8Array;
  headers: Headers;
  /** `performance.now()` when it arrived. */
  at: number;
}

/**
 * A `/stream` client that parses the multipart body strictly in the background, checks that
 * each part is a structurally complete JPEG, and keeps the most recent parts.
 */
export class StreamWatcher {
  /** Parts received so far. */
  count = 0;
  /** The most recent parts, newest last (at most `keep`). */
  readonly recent: Part[] = [];
  /** Parts whose body is not a complete JPEG. */
  bad = 0;
  /** Set when the stream ended or failed. */
  ended = false;
  /** The parse error that ended the stream, if any. */
  error: unknown = null;
  /** Resolves when the body is finished (ended, failed or cancelled). */
  readonly done: Promise<void>;
  readonly #body: ReadableStreamDefaultReader<Uint8Array>;
  #cancelled = false;

  private constructor(res: Response, keep: number, onPart?: (part: Part) => void) {
    // readMultipart locks the stream it reads; reading the body through our own reader lets
    // close() cancel it even while the parser waits for the next chunk.
    const body = res.body!.getReader();
    this.#body = body;
    const wrapped = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await body.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => body.cancel(reason),
    });
    const boundary = boundaryFromContentType(res.headers.get("content-type") ?? "");
    this.done = (async () => {
      try {
        for await (const part of readMultipart(wrapped, boundary, { strict: true })) {
          const p = { body: part.body, headers: part.headers, at: performance.now() };
          this.count++;
          if (!jpegInfo(p.body)) this.bad++;
          this.recent.push(p);
          if (this.recent.length > keep) this.recent.shift();
          onPart?.(p);
        }
      } catch (err) {
        if (!this.#cancelled) this.error = err;
      } finally {
        this.ended = true;
      }
    })();
  }

  /** Opens `url` (a /stream URL) and starts reading; asserts a 200 multipart answer. */
  static async open(
    url: string | URL,
    options: { init?: RequestInit; keep?: number; onPart?: (part: Part) => void } = {},
  ): Promise<StreamWatcher> {
    const res = await fetch(url, options.init);
    if (res.status !== 200) {
      const text = await res.text();
      assert.fail(`stream ${url} answered ${res.status}: ${text}`);
    }
    assert.match(res.headers.get("content-type") ?? "", /^multipart\/x-mixed-replace/);
    return new StreamWatcher(res, options.keep ?? 8, options.onPart);
  }

  /** Waits until at least `n` parts have arrived in total. */
  async waitForCount(n: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(() => this.count >= n || this.ended, `${n} parts`, timeoutMs);
    assert.ok(this.count >= n, `stream ended after ${this.count} parts (${this.error})`);
  }

  /** Stops reading and releases the connection. */
  async close(): Promise<void> {
    this.#cancelled = true;
    await this.#body.cancel().catch(() => {});
    await this.done;
  }
}

/** Parses /proc/PID/stat: the process state letter and its parent pid, or null if gone. */
export function procStat(pid: number): { state: string; ppid: number; comm: string } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const [state, ppid] = text.slice(close + 2).split(" ");
  return { state, ppid: Number(ppid), comm };
}

/** The pid of this process's ffmpeg child, or null when none runs. */
export function ffmpegPid(): number | null {
  return childrenOf(Deno.pid).find((c) => c.comm === "ffmpeg")?.pid ?? null;
}

/** True while `pid` exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== null && st.state !== "Z" && st.state !== "X";
}

/** Live processes whose parent is `ppid`. */
export function childrenOf(ppid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const st = procStat(pid);
    if (st && st.ppid === ppid && st.state !== "Z" && st.state !== "X") {
      out.push({ pid, comm: st.comm });
    }
  }
  return out;
}

/** A `main.ts` process started by a test. */
export interface SpawnedServer {
  child: Deno.ChildProcess;
  pid: number;
  /** The port from the banner line "live MJPEG on port N". */
  port: number;
  /** `http://127.0.0.1:PORT/`. */
  url: string;
  /** Everything printed so far on stdout and stderr, interleaved. */
  output(): string;
  /** Resolves with the exit status once the process ended and its output is drained. */
  status: Promise<Deno.CommandStatus>;
}

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The most output of a spawned server kept for assertions (the rest is dropped, oldest first). */
const MAX_OUTPUT = 1024 * 1024;

/** How to spawn a server. */
export interface SpawnOptions {
  /** Run under `ulimit -n N` (soft and hard), through bash. */
  fdLimit?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Spawns `deno run -A main.ts --port 0 ARGS` and resolves once its banner names the port.
 * The caller must end the process (signal it) and await `status`.
 */
export async function spawnServer(
  args: string[],
  options: SpawnOptions = {},
): Promise<SpawnedServer> {
  const deno = [Deno.execPath(), "run", "-A", MAIN, "--port", "0", ...args];
  const [cmd, argv] = options.fdLimit
    ? ["bash", ["-c", `ulimit -n ${options.fdLimit} && exec "$@"`, "tuchuan", ...deno]]
    : [deno[0], deno.slice(1)];
  const child = new Deno.Command(cmd as string, {
    args: argv as string[],
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const banner = Promise.withResolvers<number>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (text.length > MAX_OUTPUT) text = text.slice(-MAX_OUTPUT);
      const m = /live MJPEG on port (\d+)/.exec(text);
      if (m) banner.resolve(Number(m[1]));
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const status = drained.then(() => child.status);
  status.then(() => banner.reject(new Error(`main.ts exited before its banner:\n${text}`)));
  let port: number;
  try {
    port = await banner.promise;
  } catch (err) {
    await status;
    throw err;
  }
  return {
    child,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}/`,
    output: () => text,
    status,
  };
}

/** A raw TCP client that sends `request` and reads nothing (a viewer that stopped reading). */
export async function stalledClient(port: number, path: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
  );
  return conn;
}
