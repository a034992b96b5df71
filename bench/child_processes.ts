/**
 * Every process the benchmark starts, so that all of them (and their descendants, such as
 * tuchuan's ffmpeg) are killed on the way out: normal end, error, Ctrl-C or SIGTERM.
 *
 * @module
 */
import { readProcTextOrNull } from "../src/core/proc_read.ts";
import { findDescendants } from "./proc_stats.ts";

/** A started process and how to describe it in messages. */
interface Tracked {
  readonly child: Deno.ChildProcess;
  readonly label: string;
  exited: boolean;
}

const live = new Map<number, Tracked>();

/** Spawns `command` with piped stdout/stderr and tracks it until {@link killTree} reaps it. */
export function spawnTracked(
  label: string,
  command: string,
  args: string[],
  env?: Record<string, string>,
): Deno.ChildProcess {
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    // A clean environment minus TUCHUAN_* so a developer's settings cannot skew the servers.
    clearEnv: env !== undefined,
    env,
  }).spawn();
  const tracked: Tracked = { child, label, exited: false };
  live.set(child.pid, tracked);
  child.status.then(() => {
    tracked.exited = true;
  });
  return child;
}

/** True while `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const stat = readProcTextOrNull(`/proc/${pid}/stat`);
  if (stat === null) return false;
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** What stopping a process tree took. */
export interface StopResult {
  /** Exit code of the root, or null when it had to be SIGKILLed. */
  readonly code: number | null;
  /** Milliseconds from SIGTERM to the root's exit. */
  readonly ms: number;
  /** Descendants still alive after the root exited (killed with SIGKILL by us). */
  readonly orphans: number;
}

/**
 * SIGTERM to a tracked process, SIGKILL after `graceMs`; then SIGKILL any descendant that outlived
 * it (a server that leaks its ffmpeg must not skew the next scenario's CPU).
 */
export async function killTree(child: Deno.ChildProcess, graceMs = 3000): Promise<StopResult> {
  const pid = child.pid;
  const tracked = live.get(pid);
  // Collect first: once the root dies its children are re-parented and cannot be found by ppid.
  const descendants = tracked?.exited ? [] : findDescendants(pid);
  const t0 = performance.now();
  let code: number | null = null;
  if (!tracked?.exited) signal(pid, "SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), graceMs);
  });
  const first = await Promise.race([child.status, timedOut]);
  clearTimeout(timer);
  if (first === "timeout") {
    signal(pid, "SIGKILL");
    await child.status;
  } else {
    code = first.code;
  }
  const ms = performance.now() - t0;
  let orphans = 0;
  for (const d of descendants) {
    if (isAlive(d)) {
      orphans++;
      signal(d, "SIGKILL");
    }
  }
  live.delete(pid);
  return { code, ms, orphans };
}

/** Kills every tracked process tree; used on errors and signals. */
export async function killAll(): Promise<void> {
  await Promise.all([...live.values()].map((t) => killTree(t.child, 1500).catch(() => {})));
}

/** Labels of the processes still tracked (for a last-resort message). */
export function liveLabels(): string[] {
  return [...live.values()].map((t) => `${t.label} (pid ${t.child.pid})`);
}

/**
 * The environment for a child: ours, without TUCHUAN_* variables, with colours off and without
 * `deno run`'s update check (as `make run`; the compiled binary never checks).
 */
export function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (!k.startsWith("TUCHUAN_")) env[k] = v;
  }
  env.NO_COLOR = "1";
  env.DENO_NO_UPDATE_CHECK = "1";
  return env;
}
