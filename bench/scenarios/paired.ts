/**
 * `paired1`: one viewer each, tuchuan and the seed running at the same time, their CPU measured
 * over the same windows, several times over. What does one viewer cost, compared under the same
 * conditions?
 *
 * `clients1` measures one server after the other. On a shared machine the other tenants' load
 * moves from one half-minute to the next, and with it both figures: runs of the same commit here
 * gave the seed 0.19-0.31 s per 1000 frames and a tuchuan/seed ratio of 1.09-2.23. Run side by
 * side, both servers see the same neighbours in every window (together they use 1-2 % of a core,
 * so they hardly disturb each other), and the median of the per-window ratios is what the code
 * costs, not what the machine was doing.
 *
 * `settled1` is the same after two minutes of streaming. `paired1`'s windows fall in tuchuan's
 * first 40 s, while V8 still runs its per-frame functions in the interpreter or half-optimised:
 * V8 compiles a function with Maglev after 400 calls and with TurboFan after 3000
 * (`--invocation-count-for-maglev`, `--invocation-count-for-turbofan`), 13 s and 100 s at 30
 * fps. A board streams for days, so its cost is the settled one; the seed (CPython, no JIT)
 * costs the same from its first second. Both rows are reported.
 *
 * @module
 */
import { replaySpec, withServers } from "../launch.ts";
import { ClientPool, type LoadReport } from "../load_client.ts";
import { windowCpu } from "../proc_stats.ts";
import {
  type BenchConfig,
  type ColumnOutcome,
  columnRows,
  errorMessage,
  num,
  type Scenario,
  type ScenarioResult,
  sleep,
} from "../scenario.ts";
import type { ServerProcess } from "../server_process.ts";
import { per1000Frames, percentile } from "../stats.ts";
import { peakMemoryRows } from "./window_rows.ts";

/** The median of the finite values; NaN when there are none. */
const median = (values: readonly number[]) => percentile(values, 50);

/** When a paired scenario's windows start: at once, or once tuchuan's JIT has settled. */
export type PairedStart = "fresh" | "settled";

const WARMUP_MS: Record<PairedStart, { full: number; quick: number }> = {
  fresh: { full: 1500, quick: 300 },
  settled: { full: 120_000, quick: 5000 },
};
const WINDOW_MS = { full: 4000, quick: 1000 };
const ROUNDS = { full: 9, quick: 2 };

/** One server's figures over the paired windows. */
interface PairedOutcome {
  /** CPU seconds per 1000 frames delivered, one per window. */
  readonly cpuPer1000: number[];
  /** Frames per second the viewer got, one per window. */
  readonly fps: number[];
  readonly badParts: number;
  readonly problems: string[];
  readonly peakRssMb: number;
  readonly peakPssMb: number;
}

/** Opens one viewer on each server, warms up, then measures every server over the same windows. */
async function measurePairs(
  servers: readonly ServerProcess[],
  rounds: number,
  warmupMs: number,
  windowMs: number,
): Promise<PairedOutcome[]> {
  const pools: ClientPool[] = [];
  try {
    for (const s of servers) {
      const target = { port: s.port, path: "/stream", strict: s.spec.kind === "tuchuan" };
      pools.push(await ClientPool.open(target, 1));
    }
    await sleep(warmupMs);
    const cpu: number[][] = servers.map(() => []);
    const fps: number[][] = servers.map(() => []);
    const reports: LoadReport[][] = servers.map(() => []);
    for (let r = 0; r < rounds; r++) {
      const before = servers.map((s) => s.sampler.preciseCpu());
      for (const p of pools) p.beginWindow();
      await sleep(windowMs);
      const ends = pools.map((p) => p.endWindow());
      const after = servers.map((s) => s.sampler.preciseCpu());
      servers.forEach((_, i) => {
        cpu[i].push(per1000Frames(windowCpu(before[i], after[i]).seconds, ends[i].totalFrames));
        fps[i].push(ends[i].fps.p50);
        reports[i].push(ends[i]);
      });
    }
    for (const s of servers) s.sampler.sample({ pss: true });
    return servers.map((s, i) => ({
      cpuPer1000: cpu[i],
      fps: fps[i],
      badParts: reports[i].reduce((n, r) => n + r.badParts, 0),
      problems: [...new Set(reports[i].flatMap((r) => r.problems))],
      peakRssMb: s.sampler.peakKb / 1024,
      peakPssMb: s.sampler.peakPssKb / 1024,
    }));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/**
 * The scenario: every configured server at once, one viewer each, measured from the start
 * (`paired1`) or after two minutes of streaming (`settled1`).
 */
export function pairedScenario(start: PairedStart): Scenario {
  const name = start === "fresh" ? "paired1" : "settled1";
  const warmup = WARMUP_MS[start];
  return {
    name,
    title: start === "fresh"
      ? "1 client each, the servers side by side over the same windows, 640x480 @ 30 fps replay"
      : "as paired1, after 2 minutes of streaming (V8 has compiled tuchuan's per-frame code)",
    estimateSeconds: (quick) => (quick ? warmup.quick / 1000 + 5 : warmup.full / 1000 + 40),
    async run(cfg: BenchConfig): Promise<ScenarioResult> {
      const t0 = performance.now();
      const mode = cfg.quick ? "quick" : "full";
      const kinds = [...cfg.servers];
      let outcomes: ColumnOutcome<PairedOutcome>[];
      try {
        const run = await withServers(
          cfg,
          kinds.map((k) => replaySpec(cfg, k)),
          (servers) => measurePairs(servers, ROUNDS[mode], warmup[mode], WINDOW_MS[mode]),
        );
        outcomes = kinds.map((column, i) => ({ column, value: run.value[i] }));
      } catch (err) {
        outcomes = kinds.map((column) => ({ column, error: errorMessage(err) }));
      }
      const t = outcomes.findIndex((o) => o.column === "tuchuan");
      const s = outcomes.findIndex((o) => o.column === "seed");
      const tv = outcomes[t]?.value;
      const sv = outcomes[s]?.value;
      const ratios = tv && sv ? tv.cpuPer1000.map((c, i) => c / sv.cpuPer1000[i]) : [];
      const rows = columnRows<PairedOutcome>(outcomes, [
        { metric: "windows", digits: 0, get: (o) => o.cpuPer1000.length },
        {
          metric: "per-client fps p50, median",
          better: "higher",
          digits: 1,
          get: (o) => num(median(o.fps)),
        },
        {
          metric: "server CPU per 1000 frames, median",
          unit: "s",
          better: "lower",
          digits: 3,
          headline: true,
          get: (o) => num(median(o.cpuPer1000)),
        },
        {
          metric: "  lowest window",
          unit: "s",
          digits: 3,
          get: (o) => num(Math.min(...o.cpuPer1000)),
        },
        {
          metric: "  highest window",
          unit: "s",
          digits: 3,
          get: (o) => num(Math.max(...o.cpuPer1000)),
        },
        { metric: "bad parts", better: "lower", digits: 0, get: (o) => o.badParts },
        ...peakMemoryRows<PairedOutcome>((o) => o, { suffix: " (ran side by side)" }),
      ]);
      const warnings: string[] = [];
      for (const o of outcomes) {
        if (o.error) warnings.push(`${o.column}: ${o.error}`);
        if (!o.value) continue;
        if (o.value.badParts > 0) warnings.push(`${o.column}: ${o.value.badParts} bad parts`);
        for (const p of o.value.problems.slice(0, 3)) warnings.push(`${o.column}: ${p}`);
        const slow = o.value.fps.filter((f) => f < 29).length;
        if (slow) warnings.push(`${o.column}: under 29 fps in ${slow} of the windows`);
      }
      return {
        name,
        title: this.title,
        columns: kinds,
        compare: true,
        rows,
        notes: [
          `${ROUNDS[mode]} windows of ${WINDOW_MS[mode] / 1000} s after ${
            warmup[mode] / 1000
          } s warm-up, every server measured over the same span.`,
          ratios.length
            ? `tuchuan/seed CPU per window: ${ratios.map((r) => r.toFixed(2)).join(", ")}; ` +
              `median ${median(ratios).toFixed(2)}x (the ratio column divides the medians).`
            : "no ratio: it needs both tuchuan and the seed.",
          "Peak RSS and PSS are each server's own tree since its launch; PSS divides the pages " +
          "the two share (none: Python and Deno) by the processes mapping them.",
        ],
        warnings,
        seconds: (performance.now() - t0) / 1000,
        raw: { ratios, ...Object.fromEntries(outcomes.map((o) => [o.column, o.value ?? o])) },
      };
    },
  };
}
