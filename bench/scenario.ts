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

/**
 * Runs `body` for each configured server in turn (never in parallel: they would share the two
 * cores). An error is recorded for that server and the next one still runs.
 */
export async function perServer<T>(
  cfg: BenchConfig,
  body: (kind: ServerKind) => Promise<T>,
): Promise<PerServer<T>[]> {
  const out: PerServer<T>[] = [];
  for (const kind of cfg.servers) {
    try {
      out.push({ kind, value: await body(kind) });
    } catch (err) {
      cfg.log(`  ${kind}: FAILED: ${errorMessage(err)}`);
      out.push({ kind, error: errorMessage(err) });
    }
  }
  return out;
}

/** How to read one row out of a per-server outcome. */
export interface RowDef<T> {
  readonly metric: string;
  readonly unit?: string;
  readonly better?: "higher" | "lower";
  readonly digits?: number;
  readonly headline?: boolean;
  readonly get: (value: T, kind: ServerKind) => Cell;
}

/** Rows with one column per server; a failed server shows "error" in every row. */
export function rowsFor<T>(outcomes: PerServer<T>[], defs: RowDef<T>[]): Row[] {
  return defs.map((d) => ({
    metric: d.metric,
    unit: d.unit,
    better: d.better,
    digits: d.digits,
    headline: d.headline,
    values: outcomes.map((o) => (o.value === undefined ? "error" : d.get(o.value, o.kind))),
  }));
}

/** Warnings for the servers that failed, with the reason. */
export function failureWarnings<T>(outcomes: PerServer<T>[]): string[] {
  return outcomes.filter((o) => o.error !== undefined).map((o) => `${o.kind} failed: ${o.error}`);
}

/** A finite number, or `null` ("n/a") for NaN and infinities. */
export function num(value: number): Cell {
  return Number.isFinite(value) ? value : null;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
