/**
 * `encode` (tuchuan only: the seed cannot draw an overlay): ffmpeg's test pattern with the FPS and
 * time overlay drawn and JPEG-encoded by imagescript in the worker pool, at three sizes, with 10
 * viewers. Does the encode path keep 30 fps, and what does it cost?
 *
 * @module
 */
import { encodeSpec, type FrameSize, withServer } from "../launch.ts";
import { measureWindow, type WindowMeasurement } from "../load_window.ts";
import { type BenchConfig, errorMessage, num, type Row, type Scenario } from "../scenario.ts";
import type { ScenarioResult } from "../scenario.ts";
import { loadWarnings } from "./warnings.ts";

const SIZES: FrameSize[] = ["640x480", "1280x720", "1920x1080"];
const CLIENTS = 10;
/** Longer warm-up than replay: the worker pool compiles and the first frames are slow. */
const WARMUP_MS = { full: 2000, quick: 500 };
const DURATION_MS = { full: 10_000, quick: 1500 };

/** One size's window, or why it failed. */
interface SizeOutcome {
  readonly size: FrameSize;
  readonly value?: WindowMeasurement & { readonly startupSeconds: number };
  readonly error?: string;
}

/** The `encode` scenario. */
export const encodeScenario: Scenario = {
  name: "encode",
  title: `tuchuan encode path: testsrc + overlay fps,time, imagescript, ${CLIENTS} clients`,
  estimateSeconds: (quick) => quick ? 15 : 50,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    const base = {
      name: "encode",
      title: this.title,
      columns: SIZES as string[],
      compare: false,
    };
    if (!cfg.servers.includes("tuchuan")) {
      return {
        ...base,
        rows: [],
        notes: ["skipped: tuchuan is not among --servers"],
        warnings: [],
        seconds: 0,
        raw: {},
      };
    }
    const outcomes: SizeOutcome[] = [];
    for (const size of SIZES) {
      try {
        const run = await withServer(cfg, encodeSpec(cfg, size), (server) =>
          measureWindow(server, {
            clients: CLIENTS,
            warmupMs: WARMUP_MS[mode],
            durationMs: DURATION_MS[mode],
          }));
        cfg.log(
          `  ${size}: fps p50 ${run.value.load.fps.p50.toFixed(1)}, cpu ` +
            `${run.value.serverCpuSeconds.toFixed(2)} s`,
        );
        outcomes.push({ size, value: { ...run.value, startupSeconds: run.startupSeconds } });
      } catch (err) {
        cfg.log(`  ${size}: FAILED: ${errorMessage(err)}`);
        outcomes.push({ size, error: errorMessage(err) });
      }
    }
    const cores = navigator.hardwareConcurrency || 1;
    type M = NonNullable<SizeOutcome["value"]>;
    const row = (
      metric: string,
      get: (m: M) => number | string | null,
      extra: Partial<Row> = {},
    ): Row => ({
      metric,
      ...extra,
      values: outcomes.map((o) => (o.value ? get(o.value) : "error")),
    });
    const rows: Row[] = [
      row("clients connected", (m) => `${m.load.connected}/${m.load.clients}`),
      row("delivered fps min", (m) => num(m.load.fps.min), { digits: 1, headline: true }),
      row("delivered fps p50", (m) => num(m.load.fps.p50), { digits: 1 }),
      row("total frames delivered", (m) => m.load.totalFrames, { digits: 0 }),
      row("bad parts", (m) => m.load.badParts, { digits: 0 }),
      row("latency p50", (m) => num(m.load.latencyMs.p50), {
        unit: "ms",
        digits: 1,
        headline: true,
      }),
      row("latency p95", (m) => num(m.load.latencyMs.p95), { unit: "ms", digits: 1 }),
      row("server CPU", (m) => m.serverCpuSeconds, { unit: "s", headline: true }),
      row("  of which ffmpeg", (m) => m.childCpuSeconds, { unit: "s" }),
      row("server CPU share", (m) => m.serverCpuSeconds / m.load.windowSeconds / cores * 100, {
        unit: `% of ${cores} cores`,
        digits: 0,
      }),
      row("server CPU per 1000 frames", (m) => num(m.cpuPer1000Frames), { unit: "s", digits: 3 }),
      row("peak RSS", (m) => m.peakRssMb, { unit: "MB", digits: 1 }),
      row("peak PSS", (m) => m.peakPssMb, { unit: "MB", digits: 1 }),
      row("start-up", (m) => m.startupSeconds, { unit: "s", digits: 1 }),
      row("bench client CPU", (m) => m.benchCpuShare * 100, { unit: "% core", digits: 0 }),
    ];
    return {
      ...base,
      rows,
      notes: [
        `--source testsrc --size S --fps ${cfg.fps} --overlay fps,time --encoder imagescript; ` +
        `${DURATION_MS[mode] / 1000} s window after ${WARMUP_MS[mode] / 1000} s warm-up.`,
        "CPU includes ffmpeg generating raw RGBA frames; the seed cannot do this, so no ratio.",
      ],
      warnings: outcomes.flatMap((o) =>
        o.value ? loadWarnings(o.size, o.value) : [`${o.size} failed: ${o.error}`]
      ),
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.size, o.value ?? { error: o.error }])),
    };
  },
};
