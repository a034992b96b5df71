/**
 * What `idle` and `alwayson` share: the rows of a no-viewer window, and the seed's no-viewer cost
 * (measured once per run: the seed has no idle mode, its camera thread always runs, so both
 * scenarios compare against the same number).
 *
 * @module
 */
import { replaySpec, withServer } from "../launch.ts";
import { measureQuiet, type QuietMeasurement } from "../quiet_window.ts";
import { type BenchConfig, type ColumnRowDef, num } from "../scenario.ts";
import { threadCount, waitUntil } from "../server_state.ts";

/** A quiet window and how the server got there. */
export interface NoViewer {
  readonly quiet: QuietMeasurement;
  readonly startupSeconds: number;
}

let seedRun: { windowMs: number; result: Promise<NoViewer> } | undefined;

/**
 * The seed with no viewer for `windowMs`, after its readiness probe's viewer thread has ended
 * (werkzeug runs a thread per request: 2 threads are left, the server's and the camera's).
 */
export function seedNoViewer(cfg: BenchConfig, windowMs: number): Promise<NoViewer> {
  if (seedRun?.windowMs !== windowMs) {
    const result = (async () => {
      const run = await withServer(cfg, replaySpec(cfg, "seed"), async (server) => {
        await waitUntil("the seed's probe thread to end", () => threadCount(server.pid) <= 2, 5000);
        return await measureQuiet(server, windowMs);
      });
      return { quiet: run.value, startupSeconds: run.startupSeconds };
    })();
    // A failure is not kept: the next scenario tries again.
    result.catch(() => {
      seedRun = undefined;
    });
    seedRun = { windowMs, result };
  }
  return seedRun.result;
}

/** The rows every no-viewer table has, reading the quiet window out of `T`. */
export function quietRows<T>(get: (value: T) => QuietMeasurement): ColumnRowDef<T>[] {
  return [
    {
      metric: "CPU with no viewer",
      unit: "ms/s",
      better: "lower",
      digits: 2,
      headline: true,
      get: (v) => num(get(v).cpuMsPerSecond),
    },
    {
      metric: "  same, from stat ticks",
      unit: "ms/s",
      digits: 1,
      get: (v) => num(get(v).tickCpuMsPerSecond),
    },
    {
      metric: "child processes (max in window)",
      better: "lower",
      digits: 0,
      headline: true,
      get: (v) => get(v).childrenMax,
    },
    {
      metric: "  which",
      get: (v) => get(v).childNames.join(", ") || "none",
    },
    {
      metric: "peak RSS in window",
      unit: "MB",
      better: "lower",
      digits: 1,
      get: (v) => get(v).rssMb,
    },
    {
      metric: "peak PSS in window",
      unit: "MB",
      better: "lower",
      digits: 1,
      headline: true,
      get: (v) => get(v).pssMb,
    },
  ];
}

/** The progress line of a quiet window; `cpuDigits` decimals of its ms/s of CPU. */
export function quietSummary(q: QuietMeasurement, cpuDigits: number): string {
  return `${q.cpuMsPerSecond.toFixed(cpuDigits)} ms/s CPU, ${q.childrenMax} children, ` +
    `PSS ${q.pssMb.toFixed(1)} MB`;
}

/** A warning when ns-based CPU misses time that `stat` ticks saw (threads that exited). */
export function tickWarning(column: string, q: QuietMeasurement): string[] {
  const tick = 10 / q.seconds; // One 10 ms tick, in ms/s over the window.
  return q.tickCpuMsPerSecond > q.cpuMsPerSecond + 2 * tick
    ? [
      `${column}: stat ticks say ${q.tickCpuMsPerSecond.toFixed(1)} ms/s, thread run times ` +
      `${q.cpuMsPerSecond.toFixed(2)} ms/s: threads or children exited during the window`,
    ]
    : [];
}
