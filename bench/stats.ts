/**
 * Descriptive statistics for benchmark samples: percentiles, mean, a summary, and a comparison of
 * the first and last samples of a series (is a frame's age growing?).
 *
 * Every function takes plain arrays and never mutates them; an empty input gives `NaN` rather than
 * throwing, so a scenario that collected nothing still prints a row ("n/a").
 *
 * @module
 */

/** Summary of a sample, all in the sample's own unit. */
export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Ascending copy of `values` without the non-finite entries (they would poison every statistic). */
export function sortedFinite(values: readonly number[]): number[] {
  return values.filter(Number.isFinite).sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0..100) of an already ascending array, interpolating linearly between the
 * two closest ranks (numpy's default), so p50 of `[1, 2]` is 1.5 and small samples stay smooth.
 */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** The `p`-th percentile (0..100) of `values` in any order; `NaN` when empty. */
export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(sortedFinite(values), p);
}

/** Arithmetic mean of the finite values; `NaN` when there are none. */
export function mean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  let sum = 0;
  for (const v of finite) sum += v;
  return sum / finite.length;
}

/** Sum of the finite values (0 when empty: a total of nothing is nothing). */
export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) if (Number.isFinite(v)) total += v;
  return total;
}

/** Count, min, max, mean and p50/p95/p99 in one pass over a sorted copy. */
export function summarize(values: readonly number[]): Summary {
  const sorted = sortedFinite(values);
  return {
    count: sorted.length,
    min: sorted.length ? sorted[0] : NaN,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: mean(sorted),
    p50: percentileSorted(sorted, 50),
    p95: percentileSorted(sorted, 95),
    p99: percentileSorted(sorted, 99),
  };
}

/** Medians of the first and the last `k` samples of a time series, and their difference. */
export interface EndsComparison {
  readonly k: number;
  readonly first: number;
  readonly last: number;
  /** `last - first`: positive when the series went up. */
  readonly delta: number;
}

/**
 * Compares the median of the first `k` samples with the median of the last `k`, in series order.
 * With fewer than `2k` samples, `k` shrinks to half the series so the two ends never overlap.
 */
export function compareEnds(series: readonly number[], k = 5): EndsComparison {
  const finite = series.filter(Number.isFinite);
  const n = Math.min(k, Math.floor(finite.length / 2));
  if (n === 0) return { k: 0, first: NaN, last: NaN, delta: NaN };
  const first = percentile(finite.slice(0, n), 50);
  const last = percentile(finite.slice(finite.length - n), 50);
  return { k: n, first, last, delta: last - first };
}

/**
 * Least-squares slope of `ys` over `xs` (pairs with a non-finite member are skipped); `NaN` with
 * fewer than two points or when every x is the same. Used for "is the age still growing?".
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const pts: [number, number][] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push([xs[i], ys[i]]);
  }
  if (pts.length < 2) return NaN;
  const mx = mean(pts.map((p) => p[0]));
  const my = mean(pts.map((p) => p[1]));
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return sxx === 0 ? NaN : sxy / sxx;
}

/** `a / b`, or `NaN` when either is not a finite number or `b` is zero (no meaningful ratio). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** CPU milliseconds per second of wall time; `NaN` for an empty or non-finite span. */
export function cpuMsPerSecond(cpuMs: number, seconds: number): number {
  if (!Number.isFinite(cpuMs) || !Number.isFinite(seconds) || seconds <= 0) return NaN;
  return cpuMs / seconds;
}

/** CPU seconds per 1000 frames; `NaN` when no frame was counted. */
export function per1000Frames(cpuSeconds: number, frames: number): number {
  if (!Number.isFinite(cpuSeconds) || !(frames > 0)) return NaN;
  return cpuSeconds / frames * 1000;
}

/** One step of a "how many viewers" ladder. */
export interface LadderStep {
  readonly clients: number;
  readonly passed: boolean;
}

/**
 * Whether a step passes: every one of `clients` viewers connected and received at least `minFps`
 * (one viewer below it fails the step: the question is what *every* viewer gets).
 */
export function stepPasses(
  perClientFps: readonly number[],
  clients: number,
  minFps: number,
): boolean {
  if (perClientFps.length < clients || clients <= 0) return false;
  return perClientFps.every((fps) => Number.isFinite(fps) && fps >= minFps);
}

/**
 * The largest client count of the passing steps before the first failing one (a ladder stops at
 * its first failure; a pass after a failure would be noise); 0 when the first step failed.
 */
export function largestPassing(steps: readonly LadderStep[]): number {
  let best = 0;
  for (const s of steps) {
    if (!s.passed) break;
    best = Math.max(best, s.clients);
  }
  return best;
}

/**
 * How late each frame of a paced stream arrived relative to the first one: `arrival[i] −
 * arrival[0] − i / fps`, in ms. A producer that keeps pace gives values around 0; one that falls
 * behind gives a rising series. Empty for fewer than one arrival.
 */
export function paceLagMs(arrivalsMs: readonly number[], fps: number): number[] {
  if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
  if (arrivalsMs.length === 0) return [];
  const first = arrivalsMs[0];
  return arrivalsMs.map((t, i) => t - first - (i * 1000) / fps);
}
