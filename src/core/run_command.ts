/**
 * Running a helper program (v4l2-ctl, a user's hook) without a shell: arguments passed as they
 * are, output read up to a bound, and a time limit after which the program is killed.
 *
 * @module
 */

import { type Clock, systemClock } from "./clock.ts";

/** What a finished program left. */
export interface CommandResult {
  /** Exit code; null when it was killed (time limit or abort). */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Its standard output, up to the bound, as text. */
  stdout: string;
  /** Its standard error, up to the bound, as text. */
  stderr: string;
  /** True when the time limit ended it. */
  timedOut: boolean;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Kill the program after this long (default 5 s). */
  timeoutMs?: number;
  /** Keep at most this many bytes of each output (default 1 MiB); the rest is read and dropped. */
  maxOutputBytes?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Kills the program when aborted. */
  signal?: AbortSignal;
  /** Times the limit (default: the machine's clock). */
  clock?: Clock;
}

/** How long the output may still come after the program ended (its children may hold it). */
const DRAIN_MS = 500;

async function readBounded(
  stream: ReadableStream<Uint8Array>,
  max: number,
  stop: Promise<void>,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  const reader = stream.getReader();
  // A program's own children (a hook's `sleep`) can keep the pipe open after it was killed:
  // reading stops a moment after the program itself ended.
  stop.then(() => reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (kept >= max) continue; // keep draining, so the program never blocks on a full pipe
      const part = value.subarray(0, max - kept);
      chunks.push(part);
      kept += part.byteLength;
    }
  } catch {
    // Cancelled: what came so far is the output.
  }
  const all = new Uint8Array(kept);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

/**
 * Runs `program` with `args` and resolves with its exit and output. Rejects (with Deno's
 * `NotFound`) only when the program cannot be started.
 */
export async function runCommand(
  program: string,
  args: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const max = options.maxOutputBytes ?? 1024 * 1024;
  const child = new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const limit = new AbortController();
  (options.clock ?? systemClock).sleep(options.timeoutMs ?? 5000, limit.signal).then(() => {
    timedOut = true;
    kill();
  }, () => {});
  options.signal?.addEventListener("abort", kill, { once: true });
  try {
    const drained = child.status.then(() =>
      (options.clock ?? systemClock).sleep(DRAIN_MS, limit.signal).catch(() => {})
    );
    const [stdout, stderr, status] = await Promise.all([
      readBounded(child.stdout, max, drained),
      readBounded(child.stderr, max, drained),
      child.status,
    ]);
    return {
      code: status.signal ? null : status.code,
      signal: status.signal,
      stdout,
      stderr,
      timedOut,
    };
  } finally {
    limit.abort();
    options.signal?.removeEventListener("abort", kill);
  }
}
