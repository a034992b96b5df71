/**
 * `maxviewers`: how many concurrent viewers one tuchuan process serves with every viewer at
 * 25 fps or more. A ladder of 500, 750, 1000, 1250, 1500 viewers of the 640x480 @ 30 replay,
 * one measurement window per step on the same server, stopping at the first step that fails.
 *
 * The load generator runs on the same 2 cores as the server, so its own CPU is reported next to
 * the server's: a step the client could not keep up with says little about the server. The seed
 * is not run: it starts a thread per viewer, and at 200 viewers (clients200) it already misses
 * 30 fps, so 500 threads would only measure Python's GIL.
 *
 * @module
 */
import { replaySpec, withServer } from "../launch.ts";
import { measureWindow, type WindowMeasurement } from "../load_window.ts";
import { readProcTextOrNull } from "../../src/core/proc_read.ts";
import {
  type BenchConfig,
  type Cell,
  num,
  type Row,
  type Scenario,
  type ScenarioResult,
  skippedResult,
} from "../scenario.ts";
import { type LadderStep, largestPassing, stepPasses } from "../stats.ts";

const STEPS = { full: [500, 750, 1000, 1250, 1500], quick: [100, 250] };
const MIN_FPS = 25;
const WARMUP_MS = { full: 2000, quick: 500 };
const DURATION_MS = { full: 10_000, quick: 2000 };
/** Descriptors besides the viewers' sockets: listeners, pipes, /proc files, Deno's own. */
const FD_MARGIN = 200;
/** Above this share of one core, the single-threaded load client may be what failed. */
const CLIENT_BOUND_SHARE = 0.9;

/** The soft `Max open files` of this process (inherited by the servers), or Infinity. */
export function openFileLimit(limits = readProcTextOrNull("/proc/self/limits")): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits ?? "");
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** One step of the ladder. */
interface Step extends LadderStep {
  readonly window: WindowMeasurement;
}

/** The `maxviewers` scenario. */
export const maxViewersScenario: Scenario = {
  name: "maxviewers",
  title: `most viewers of one tuchuan process at >= ${MIN_FPS} fps each (640x480 @ 30)`,
  estimateSeconds: (quick) => quick ? 12 : 80,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    if (!cfg.servers.includes("tuchuan")) {
      return skippedResult(this, "tuchuan is not among --servers");
    }
    const limit = openFileLimit();
    const steps = STEPS[mode].filter((n) => n + FD_MARGIN <= limit);
    const warnings: string[] = [];
    const tooMany = STEPS[mode].filter((n) => !steps.includes(n));
    if (tooMany.length) {
      warnings.push(
        `steps ${tooMany.join(", ")} skipped: open-file limit ${limit} is too low; run ` +
          `\`ulimit -n ${Math.max(...STEPS[mode]) + 2 * FD_MARGIN}\` before make bench`,
      );
    }
    const done: Step[] = [];
    let error: string | undefined;
    try {
      await withServer(cfg, replaySpec(cfg, "tuchuan"), async (server) => {
        for (const clients of steps) {
          server.sampler.resetPeak();
          const window = await measureWindow(server, {
            clients,
            warmupMs: WARMUP_MS[mode],
            durationMs: DURATION_MS[mode],
            light: true,
          });
          const passed = window.load.connected === clients && window.load.badParts === 0 &&
            stepPasses(window.load.perClientFps, clients, MIN_FPS);
          done.push({ clients, passed, window });
          cfg.log(
            `  ${clients} viewers: fps min ${window.load.fps.min.toFixed(1)} p50 ` +
              `${window.load.fps.p50.toFixed(1)}, server ${
                (window.serverCpuSeconds / window.load.windowSeconds * 100).toFixed(0)
              } % core, client ${(window.benchCpuShare * 100).toFixed(0)} % core: ` +
              (passed ? "pass" : "FAIL"),
          );
          if (!passed) break;
        }
      });
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      cfg.log(`  FAILED: ${error}`);
      warnings.push(`tuchuan failed: ${error}`);
    }
    const best = largestPassing(done);
    const cores = navigator.hardwareConcurrency || 1;
    const row = (
      metric: string,
      get: (s: Step) => Cell,
      extra: Partial<Row> = {},
    ): Row => ({ metric, ...extra, values: done.map(get) });
    const rows: Row[] = done.length === 0 ? [] : [
      row("viewers connected", (s) => `${s.window.load.connected}/${s.clients}`),
      row(`every viewer >= ${MIN_FPS} fps`, (s) => (s.passed ? "pass" : "FAIL"), {
        headline: true,
      }),
      row("per-viewer fps min", (s) => num(s.window.load.fps.min), { digits: 1 }),
      row("per-viewer fps p50", (s) => num(s.window.load.fps.p50), { digits: 1 }),
      row(
        `viewers under ${MIN_FPS} fps`,
        (s) => s.window.load.perClientFps.filter((f) => !(f >= MIN_FPS)).length,
        { digits: 0 },
      ),
      row("bad parts", (s) => s.window.load.badParts, { digits: 0 }),
      row("server CPU", (s) => s.window.serverCpuSeconds / s.window.load.windowSeconds * 100, {
        unit: "% core",
        digits: 0,
      }),
      row("server CPU per 1000 frames", (s) => num(s.window.cpuPer1000Frames), {
        unit: "s",
        digits: 3,
      }),
      row("load client CPU", (s) => s.window.benchCpuShare * 100, { unit: "% core", digits: 0 }),
      row(
        "server + client CPU",
        (s) =>
          (s.window.serverCpuSeconds / s.window.load.windowSeconds + s.window.benchCpuShare) /
          cores * 100,
        { unit: `% of ${cores} cores`, digits: 0 },
      ),
      row("latency p50", (s) => num(s.window.load.latencyMs.p50), { unit: "ms", digits: 1 }),
      row("latency p95", (s) => num(s.window.load.latencyMs.p95), { unit: "ms", digits: 1 }),
      row("peak RSS", (s) => s.window.peakRssMb, { unit: "MB", digits: 1 }),
      row("peak PSS", (s) => s.window.peakPssMb, { unit: "MB", digits: 1 }),
    ];
    const last = done.at(-1);
    // The ladder ends at its first failing step: that is the result, not a fault, unless no
    // step passed at all.
    const stopped: string[] = [];
    if (last && !last.passed) {
      const client = last.window.benchCpuShare;
      stopped.push(
        `${last.clients} viewers failed: fps min ${last.window.load.fps.min.toFixed(1)}` +
          (client > CLIENT_BOUND_SHARE
            ? `; the load client used ${Math.round(client * 100)} % of a core, so it may be ` +
              "the limit rather than the server"
            : ""),
      );
      for (const p of last.window.load.problems.slice(0, 3)) stopped.push(`${last.clients}: ${p}`);
      if (!best) warnings.push(...stopped);
    }
    const ran = done.map((s) => s.clients);
    return {
      name: "maxviewers",
      title: this.title,
      columns: ran.map(String),
      compare: false,
      rows,
      notes: [
        `largest passing step: ${best || "none"}${
          last?.passed && ran.length === steps.length ? " (every step passed)" : ""
        }; steps ${STEPS[mode].join(", ")}, stopping at the first that fails.`,
        `one tuchuan (--source ${cfg.framesRoot}/640x480 --fps ${cfg.fps} --always-on) for ` +
        `all steps; each step connects its viewers afresh, ${WARMUP_MS[mode] / 1000} s ` +
        `warm-up, ${DURATION_MS[mode] / 1000} s window; a step passes when every viewer got ` +
        `>= ${MIN_FPS} fps and every part was a complete JPEG.`,
        "the load client (one Deno thread) shares the 2 cores with the server: read 'load " +
        "client CPU' beside the server's; near 100 % of a core the client is the limit.",
        "the seed is not run: a thread per viewer, and it misses 30 fps at 200 already.",
        ...(best ? stopped.map((line) => `the ladder stopped: ${line}`) : []),
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: {
        best,
        limit,
        steps: done.map((s) => ({ clients: s.clients, passed: s.passed, window: s.window })),
        ...(error ? { error } : {}),
      },
    };
  },
};
