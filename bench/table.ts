/**
 * Renders scenario results as Markdown tables (metric | tuchuan | seed | ratio | better), and the
 * final summary, so the output can be pasted into BENCHMARKS.md as is.
 *
 * @module
 */
import type { Cell, Row, ScenarioResult } from "./scenario.ts";

/** A cell as text: numbers with `digits` decimals (or by magnitude), `null` as "n/a". */
export function formatCell(value: Cell, digits?: number): string {
  if (value === null) return "n/a";
  if (typeof value === "string") return value;
  if (!Number.isFinite(value)) return "n/a";
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}

/** `a / b` of two cells when both are numbers and the ratio is meaningful. */
export function cellRatio(a: Cell, b: Cell): number {
  if (typeof a !== "number" || typeof b !== "number") return NaN;
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** Within this relative difference two numbers are called even: timings here are noisy. */
const EVEN = 0.05;

/**
 * Which server a row favours: "tuchuan", "seed", "≈" (within 5 %), or "" when the row has no
 * direction or a value is missing.
 */
export function verdict(row: Row, tuchuan: Cell, seed: Cell): string {
  if (!row.better || typeof tuchuan !== "number" || typeof seed !== "number") return "";
  if (!Number.isFinite(tuchuan) || !Number.isFinite(seed)) return "";
  if (tuchuan === seed) return "=";
  const scale = Math.max(Math.abs(tuchuan), Math.abs(seed));
  if (Math.abs(tuchuan - seed) <= EVEN * scale) return "≈";
  const tuchuanHigher = tuchuan > seed;
  return (row.better === "higher") === tuchuanHigher ? "tuchuan" : "seed";
}

/** Metric name with its unit. */
function label(row: Row): string {
  return row.unit ? `${row.metric} (${row.unit})` : row.metric;
}

/** A Markdown table with padded columns; `right[i]` right-aligns column i. */
export function markdownTable(header: string[], body: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")
    } |`;
  const rule = `|${
    widths.map((w, i) => (right[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")
  }|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}

/** The column indexes of tuchuan and seed, when the result compares both. */
function pairIndexes(r: ScenarioResult): [number, number] | null {
  const t = r.columns.indexOf("tuchuan");
  const s = r.columns.indexOf("seed");
  return r.compare && t >= 0 && s >= 0 ? [t, s] : null;
}

/** One scenario: heading, table, notes and warnings. */
export function renderScenario(r: ScenarioResult): string {
  const pair = pairIndexes(r);
  const header = ["metric", ...r.columns, ...(pair ? ["ratio t/s", "better"] : [])];
  const body = r.rows.map((row) => {
    const cells = [label(row), ...row.values.map((v) => formatCell(v, row.digits))];
    if (pair) {
      const [t, s] = [row.values[pair[0]], row.values[pair[1]]];
      const q = cellRatio(t, s);
      cells.push(Number.isFinite(q) ? `${q.toFixed(2)}x` : "", verdict(row, t, s));
    }
    return cells;
  });
  const right = header.map((_, i) => i > 0 && !(pair && i === header.length - 1));
  const out = [`### ${r.name}: ${r.title} (${r.seconds.toFixed(0)} s)`, ""];
  out.push(r.rows.length ? markdownTable(header, body, right) : "(no measurements)");
  if (r.notes.length) out.push("", ...r.notes.map((n) => `- ${n}`));
  if (r.warnings.length) out.push("", ...r.warnings.map((w) => `- WARNING: ${w}`));
  return out.join("\n");
}

/** The headline rows of every scenario in one table, then every warning. */
export function renderSummary(results: ScenarioResult[], totalSeconds: number): string {
  const body: string[][] = [];
  for (const r of results) {
    const pair = pairIndexes(r);
    for (const row of r.rows.filter((x) => x.headline)) {
      if (pair) {
        const [t, s] = [row.values[pair[0]], row.values[pair[1]]];
        const q = cellRatio(t, s);
        body.push([
          r.name,
          label(row),
          formatCell(t, row.digits),
          formatCell(s, row.digits),
          Number.isFinite(q) ? `${q.toFixed(2)}x` : "",
          verdict(row, t, s),
        ]);
      } else {
        const cells = [r.name, label(row), "", "", "", ""];
        if (r.columns.every((c) => c === "tuchuan" || c === "seed")) {
          // A comparison run with one server only: each value in its server's column.
          r.columns.forEach((c, i) => {
            cells[c === "tuchuan" ? 2 : 3] = formatCell(row.values[i], row.digits);
          });
        } else {
          // tuchuan-only scenarios (encode): one value per column (size), joined.
          cells[2] = row.values.map((v, i) => `${r.columns[i]}: ${formatCell(v, row.digits)}`)
            .join(", ");
        }
        body.push(cells);
      }
    }
  }
  const out = [`## Summary (${totalSeconds.toFixed(0)} s)`, ""];
  out.push(
    markdownTable(["scenario", "metric", "tuchuan", "seed", "ratio t/s", "better"], body, [
      false,
      false,
      true,
      true,
      true,
      false,
    ]),
  );
  // First lines only: the full text (with server output) is under each scenario's table.
  const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.name}: ${w.split("\n")[0]}`));
  out.push("", warnings.length ? "Warnings:" : "No warnings.");
  out.push(...warnings.map((w) => `- ${w}`));
  return out.join("\n");
}
