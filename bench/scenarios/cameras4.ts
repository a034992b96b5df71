/**
 * `cameras4`: four cameras in one tuchuan process (`--camera a=DIR ... --camera d=DIR`) against
 * four tuchuan processes of one camera each, every camera the 640x480 JPEG folder at 30 fps with
 * `--always-on` and one viewer. What does a process per camera cost in CPU and memory? Memory is
 * summed over the processes as RSS (which counts the Deno binary and libraries in each) and as
 * PSS (which counts pages the four share once: the fair total).
 *
 * @module
 */
import { tuchuanSpec, withServer, withServers } from "../launch.ts";
import { measureMultiWindow, type MultiWindowMeasurement } from "../load_window.ts";
import {
  type BenchConfig,
  columnFailures,
  columnRows,
  num,
  perColumn,
  type Scenario,
  type ScenarioResult,
  skippedResult,
} from "../scenario.ts";
import { allDelivering, waitForState } from "../server_state.ts";
import { summarize } from "../stats.ts";
import { benchCpuRow, cpuPer1000FramesRow, latencyRows, peakMemoryRows } from "./window_rows.ts";

const NAMES = ["a", "b", "c", "d"] as const;
const WARMUP_MS = { full: 1500, quick: 300 };
const DURATION_MS = { full: 10_000, quick: 2000 };
const MIN_FPS = 20;

/** One layout's numbers. */
interface LayoutOutcome {
  readonly window: MultiWindowMeasurement;
  readonly processes: number;
  /** Seconds until every process answered `/healthz` (the slowest). */
  readonly startupSeconds: number;
}

/** Every viewer's fps over all streams. */
function allFps(w: MultiWindowMeasurement): number[] {
  return w.streams.flatMap((s) => s.perClientFps);
}

function allLatencies(w: MultiWindowMeasurement): { p50: number; p95: number } {
  // Per-stream percentiles are all the load reports keep; the worst stream is the honest one.
  return {
    p50: Math.max(...w.streams.map((s) => s.latencyMs.p50)),
    p95: Math.max(...w.streams.map((s) => s.latencyMs.p95)),
  };
}

async function oneProcess(cfg: BenchConfig): Promise<LayoutOutcome> {
  const mode = cfg.quick ? "quick" : "full";
  const dir = `${cfg.framesRoot}/640x480`;
  const spec = tuchuanSpec(cfg, "tuchuan 4 cameras in 1 process", [
    ...NAMES.flatMap((n) => ["--camera", `${n}=${dir}`]),
    ...["--fps", String(cfg.fps), "--always-on"],
  ]);
  const run = await withServer(cfg, spec, async (server) => {
    await waitForState(
      server.port,
      "all four cameras to deliver",
      (s) => allDelivering(s, MIN_FPS),
      20_000,
      200,
    );
    return await measureMultiWindow(
      NAMES.map((n) => ({ server, path: `/${n}/stream`, clients: 1 })),
      { warmupMs: WARMUP_MS[mode], durationMs: DURATION_MS[mode], resetPeaks: true },
    );
  });
  return { window: run.value, processes: 1, startupSeconds: run.startupSeconds };
}

async function fourProcesses(cfg: BenchConfig): Promise<LayoutOutcome> {
  const mode = cfg.quick ? "quick" : "full";
  const dir = `${cfg.framesRoot}/640x480`;
  const specs = NAMES.map((n) =>
    tuchuanSpec(cfg, `tuchuan camera ${n} alone`, [
      ...["--source", dir, "--fps", String(cfg.fps), "--always-on"],
    ], 60_000)
  );
  const run = await withServers(cfg, specs, async (servers) => {
    for (const s of servers) {
      await waitForState(
        s.port,
        `${s.spec.label} to deliver`,
        (st) => allDelivering(st, MIN_FPS),
        20_000,
        200,
      );
    }
    return await measureMultiWindow(
      servers.map((server) => ({ server, path: "/stream", clients: 1 })),
      { warmupMs: WARMUP_MS[mode], durationMs: DURATION_MS[mode], resetPeaks: true },
    );
  });
  return {
    window: run.value,
    processes: NAMES.length,
    startupSeconds: Math.max(...run.startupSeconds),
  };
}

/** The `cameras4` scenario. */
export const cameras4Scenario: Scenario = {
  name: "cameras4",
  title: "4 cameras (640x480 @ 30, 1 viewer each): 1 process vs 4 processes",
  estimateSeconds: (quick) => quick ? 15 : 40,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    if (!cfg.servers.includes("tuchuan")) {
      return skippedResult(this, "tuchuan is not among --servers");
    }
    const layouts = [
      { label: "1 process", run: oneProcess },
      { label: "4 processes", run: fourProcesses },
    ];
    const outcomes = await perColumn(cfg, layouts, (l) => l.label, async (l) => {
      const o = await l.run(cfg);
      cfg.log(
        `  ${l.label}: ${o.window.totalFrames} frames, ${o.window.cpuPer1000Frames.toFixed(3)} ` +
          `CPU-s/1000 frames, PSS ${o.window.peakPssMb.toFixed(1)} MB`,
      );
      return o;
    });
    const rows = columnRows<LayoutOutcome>(outcomes, [
      { metric: "processes", digits: 0, get: (o) => o.processes },
      {
        metric: "viewers connected",
        get: (o) =>
          `${o.window.streams.reduce((n, s) => n + s.connected, 0)}/${
            o.window.streams.reduce((n, s) => n + s.clients, 0)
          }`,
      },
      {
        metric: "per-viewer fps min",
        better: "higher",
        digits: 1,
        get: (o) => num(summarize(allFps(o.window)).min),
      },
      { metric: "frames (4 streams)", digits: 0, get: (o) => o.window.totalFrames },
      {
        metric: "bad parts",
        digits: 0,
        get: (o) => o.window.streams.reduce((n, s) => n + s.badParts, 0),
      },
      {
        metric: "tree CPU (sum)",
        unit: "s",
        better: "lower",
        get: (o) => o.window.serverCpuSeconds,
      },
      cpuPer1000FramesRow<LayoutOutcome>("tree", (o) => o.window),
      ...latencyRows<LayoutOutcome>((o) => allLatencies(o.window), " (worst stream)"),
      ...peakMemoryRows<LayoutOutcome>((o) => o.window, { suffix: " (sum)", headline: true }),
      { metric: "start-up (slowest)", unit: "s", digits: 1, get: (o) => o.startupSeconds },
      benchCpuRow<LayoutOutcome>((o) => o.window),
    ]);
    const warnings = columnFailures(outcomes, (v, column) => {
      const out: string[] = [];
      const bad = v.window.streams.reduce((n, s) => n + s.badParts, 0);
      if (bad) out.push(`${column}: ${bad} bad parts`);
      for (const s of v.window.streams) {
        for (const p of s.problems.slice(0, 2)) out.push(`${column}: ${p}`);
      }
      return out;
    });
    return {
      name: "cameras4",
      title: this.title,
      columns: outcomes.map((o) => o.column),
      compare: false,
      rows,
      notes: [
        `1 process: --camera a=DIR ... --camera d=DIR --fps ${cfg.fps} --always-on, one viewer ` +
        "on each /NAME/stream; 4 processes: --source DIR each on its own port, one viewer each; " +
        `DIR = ${cfg.framesRoot}/640x480.`,
        `${DURATION_MS[mode] / 1000} s window after ${WARMUP_MS[mode] / 1000} s warm-up, once ` +
        "/state showed every camera delivering; CPU per 1000 frames is over all 4 streams.",
        "RSS and PSS are each process tree's peak inside the window, summed over the processes; PSS " +
        "splits the pages the processes share (the deno binary, libraries), so its sum is what " +
        "the machine really spends.",
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.column, o.value ?? { error: o.error }])),
    };
  },
};
