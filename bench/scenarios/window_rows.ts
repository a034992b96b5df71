/**
 * The table rows that every loaded-window scenario reports the same way: CPU per 1000 frames,
 * latency, peak RSS/PSS and the load client's own CPU. Kept in one place so the tables of
 * `camera`, `cameras4`, `clients`, `slow` and `churn` name, round and rank them alike.
 *
 * Each helper reads its numbers through `get`, so an outcome can hold the window under any field.
 * The defs ignore the column key, so they fit both `rowsFor` and `columnRows`.
 *
 * @module
 */
import type { WindowCost } from "../load_window.ts";
import { type ColumnRowDef, num } from "../scenario.ts";

/** "`who` CPU per 1000 frames", a headline: the cost of fan-out (`who`: "tree" or "server"). */
export function cpuPer1000FramesRow<T>(
  who: string,
  get: (value: T) => Pick<WindowCost, "cpuPer1000Frames">,
): ColumnRowDef<T> {
  return {
    metric: `${who} CPU per 1000 frames`,
    unit: "s",
    better: "lower",
    digits: 3,
    headline: true,
    get: (v) => num(get(v).cpuPer1000Frames),
  };
}

/** Latency p50 and p95 rows, informational; `suffix` says how they were combined. */
export function latencyRows<T>(
  get: (value: T) => { readonly p50: number; readonly p95: number },
  suffix = "",
): ColumnRowDef<T>[] {
  return (["p50", "p95"] as const).map((p) => ({
    metric: `latency ${p}${suffix}`,
    unit: "ms",
    digits: 1,
    get: (v: T) => num(get(v)[p]),
  }));
}

/**
 * Peak RSS and peak PSS rows (lower is better); `suffix` says how they were combined, and
 * `headline` repeats PSS (the fair figure when processes share pages) in the summary.
 */
export function peakMemoryRows<T>(
  get: (value: T) => Pick<WindowCost, "peakRssMb" | "peakPssMb">,
  opts: { readonly suffix?: string; readonly headline?: boolean } = {},
): ColumnRowDef<T>[] {
  const suffix = opts.suffix ?? "";
  return [
    {
      metric: `peak RSS${suffix}`,
      unit: "MB",
      better: "lower",
      digits: 1,
      get: (v) => get(v).peakRssMb,
    },
    {
      metric: `peak PSS${suffix}`,
      unit: "MB",
      better: "lower",
      digits: 1,
      headline: opts.headline,
      get: (v) => get(v).peakPssMb,
    },
  ];
}

/** The load client's CPU in % of a core: beside the server's, it tells a client-bound run. */
export function benchCpuRow<T>(
  get: (value: T) => Pick<WindowCost, "benchCpuShare">,
): ColumnRowDef<T> {
  return {
    metric: "bench client CPU",
    unit: "% core",
    digits: 0,
    get: (v) => get(v).benchCpuShare * 100,
  };
}
