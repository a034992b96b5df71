/**
 * What a benchmark scenario is, what it reports, and the helpers every scenario shares: running a
 * body against each server in turn (one failing server must not hide the other's numbers), and
 * turning per-server outcomes into table rows.
 *
 * @module
 */
import type { ServerKind } from "./server_process.ts";

/** Settings every scenario reads. */
export interface BenchConfig {
  /** Shorten every scenario (smoke run). */
  readonly quick: boolean;
  /** The repository root (where main.ts lives). */
  readonly repoRoot: string;
  /** Output folder of make_frames.sh, with 640x480/ 1280x720/ 1920x1080/. */
  readonly framesRoot: string;
  readonly seedScript: string;
  readonly slowClientScript: string;
  /** The python3 that runs the seed and the slow client. */
  readonly python: string;
  /** argv prefix that starts tuchuan (`deno run -A main.ts` or a compiled binary). */
  readonly tuchuanCommand: readonly string[];
  /** Which servers to run, in column order. */
  readonly servers: readonly ServerKind[];
  /** Frame rate of every source. */
  readonly fps: number;
  /** Progress messages (stderr). */
  readonly log: (message: string) => void;
}

/** A table cell: a number, a text, or `null` for "n/a". */
export type Cell = number | string | null;

/** One table row. */
export interface Row {
  readonly metric: string;
  readonly unit?: string;
  /** One cell per column. */
  readonly values: Cell[];
  /** Which direction is better, for the ratio verdict; absent for informational rows. */
  readonly better?: "higher" | "lower";
  /** Decimals to print (default: by magnitude). */
  readonly digits?: number;
  /** Repeat this row in the final summary. */
  readonly headline?: boolean;
}

/** Everything one scenario reports. */
export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  /** Column headers (server names, or sizes for `encode`). */
  readonly columns: string[];
  /** True when the columns are tuchuan and seed and a ratio column makes sense. */
  readonly compare: boolean;
  readonly rows: Row[];
  /** How to read the numbers. */
  readonly notes: string[];
  /** Things that went wrong or look wrong; repeated in the summary. */
  readonly warnings: string[];
  /** Wall time the scenario took, seconds. */
  readonly seconds: number;
  /** Raw measurements for `--json`. */
  readonly raw: Record<string, unknown>;
}

/** A named scenario. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** Rough wall time, seconds, to print the plan. */
  estimateSeconds(quick: boolean): number;
  run(cfg: BenchConfig): Promise<ScenarioResult>;
}

/** The outcome of a scenario body on one server (or why it failed). */
export interface PerServer<T> {
  readonly kind: ServerKind;
  readonly value?: T;
  readonly error?: string;
}

/** Message of an unknown thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A body's value for one item, or why it failed. */
interface Tried<T> {
  readonly value?: T;
  readonly error?: string;
}

/**
 * Runs `body` for each item in turn (never in parallel: they would share the two cores). An error
 * is logged and recorded for that item and the next one still runs, so one failure cannot hide
 * the other columns' numbers.
 */
async function tryEach<C, T>(
  cfg: BenchConfig,
  items: readonly C[],
  label: (item: C) => string,
  body: (item: C) => Promise<T>,
): Promise<Tried<T>[]> {
  const out: Tried<T>[] = [];
  for (const item of items) {
    try {
      out.push({ value: await body(item) });
    } catch (err) {
      cfg.log(`  ${label(item)}: FAILED: ${errorMessage(err)}`);
      out.push({ error: errorMessage(err) });
    }
  }
  return out;
}

/** How to read one row out of an outcome whose column is named by a `K` (server kind or label). */
export interface KeyedRowDef<T, K extends string> {
  readonly metric: string;
  readonly unit?: string;
  readonly better?: "higher" | "lower";
  readonly digits?: number;
  readonly headline?: boolean;
  readonly get: (value: T, key: K) => Cell;
}

/** Rows with one cell per outcome (`keys[i]` names outcome i); a failure shows "error". */
function keyedRows<T, K extends string>(
  outcomes: readonly Tried<T>[],
  keys: readonly K[],
  defs: readonly KeyedRowDef<T, K>[],
): Row[] {
  return defs.map((d) => ({
    metric: d.metric,
    unit: d.unit,
    better: d.better,
    digits: d.digits,
    headline: d.headline,
    values: outcomes.map((o, i) => (o.value === undefined ? "error" : d.get(o.value, keys[i]))),
  }));
}

/**
 * The failures (with the reason) first, then `check`'s warnings for each outcome that has a value,
 * in column order; `keys[i]` names outcome i.
 */
function keyedWarnings<T, K extends string>(
  outcomes: readonly Tried<T>[],
  keys: readonly K[],
  check?: (value: T, key: K) => string[],
): string[] {
  const failed = outcomes.flatMap((o, i) =>
    o.error === undefined ? [] : [`${keys[i]} failed: ${o.error}`]
  );
  if (!check) return failed;
  return [
    ...failed,
    ...outcomes.flatMap((o, i) => (o.value === undefined ? [] : check(o.value, keys[i]))),
  ];
}

/** Runs `body` for each configured server in turn; a failed server is recorded, not thrown. */
export async function perServer<T>(
  cfg: BenchConfig,
  body: (kind: ServerKind) => Promise<T>,
): Promise<PerServer<T>[]> {
  const kinds = cfg.servers;
  const tried = await tryEach(cfg, kinds, (kind) => kind, body);
  return tried.map((o, i) => ({ kind: kinds[i], ...o }));
}

/** How to read one row out of a per-server outcome. */
export type RowDef<T> = KeyedRowDef<T, ServerKind>;

/** Rows with one column per server; a failed server shows "error" in every row. */
export function rowsFor<T>(outcomes: PerServer<T>[], defs: RowDef<T>[]): Row[] {
  return keyedRows(outcomes, outcomes.map((o) => o.kind), defs);
}

/**
 * Warnings for the servers that failed, with the reason; then, given `check`, its warnings for
 * each server that delivered a value.
 */
export function failureWarnings<T>(
  outcomes: PerServer<T>[],
  check?: (value: T, kind: ServerKind) => string[],
): string[] {
  return keyedWarnings(outcomes, outcomes.map((o) => o.kind), check);
}

/** A finite number, or `null` ("n/a") for NaN and infinities. */
export function num(value: number): Cell {
  return Number.isFinite(value) ? value : null;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The outcome of a scenario body for one column (a source, a variant, a step), or why not. */
export interface ColumnOutcome<T> {
  readonly column: string;
  readonly value?: T;
  readonly error?: string;
}

/**
 * Runs `body` for each column in turn, as {@link perServer} does for servers: an error is recorded
 * for that column and the next one still runs.
 */
export async function perColumn<C, T>(
  cfg: BenchConfig,
  columns: readonly C[],
  label: (column: C) => string,
  body: (column: C) => Promise<T>,
): Promise<ColumnOutcome<T>[]> {
  const tried = await tryEach(cfg, columns, label, body);
  return tried.map((o, i) => ({ column: label(columns[i]), ...o }));
}

/** How to read one row out of a column's outcome. */
export type ColumnRowDef<T> = KeyedRowDef<T, string>;

/** Rows with one cell per column; a failed column shows "error" in every row. */
export function columnRows<T>(outcomes: ColumnOutcome<T>[], defs: ColumnRowDef<T>[]): Row[] {
  return keyedRows(outcomes, outcomes.map((o) => o.column), defs);
}

/**
 * Warnings for the columns that failed, with the reason; then, given `check`, its warnings for
 * each column that delivered a value.
 */
export function columnFailures<T>(
  outcomes: ColumnOutcome<T>[],
  check?: (value: T, column: string) => string[],
): string[] {
  return keyedWarnings(outcomes, outcomes.map((o) => o.column), check);
}

/** A result with no measurement, for a scenario that does not apply to the chosen servers. */
export function skippedResult(
  scenario: { readonly name: string; readonly title: string },
  why: string,
): ScenarioResult {
  return {
    name: scenario.name,
    title: scenario.title,
    columns: [],
    compare: false,
    rows: [],
    notes: [`skipped: ${why}`],
    warnings: [],
    seconds: 0,
    raw: {},
  };
}
