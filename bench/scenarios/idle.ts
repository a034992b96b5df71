/**
 * `idle`: what tuchuan costs once its last viewer has left. With `--idle-timeout 2` (and no
 * `--always-on`) one viewer watches for 3 s and leaves; once `/state` says capture has stopped,
 * nothing is sent to the server for 10 s while its tree CPU, child processes, RSS and PSS are
 * measured. Targets: under 1 ms of CPU per second, no child process (no ffmpeg left running).
 *
 * Two sources: the 640x480 JPEG folder (read by tuchuan itself) and a raw YUYV camera stand-in
 * (ffmpeg-encode: an ffmpeg runs while capturing and must be gone once idle). The seed has no
 * idle mode (its camera thread always runs): its no-viewer cost is shown for comparison.
 *
 * @module
 */
import { type MadeStandIn, standIn } from "../camera_inputs.ts";
import { tuchuanSpec, withServer } from "../launch.ts";
import { ClientPool } from "../load_client.ts";
import { measureQuiet, type QuietMeasurement } from "../quiet_window.ts";
import {
  type BenchConfig,
  columnFailures,
  columnRows,
  num,
  perColumn,
  type Scenario,
  type ScenarioResult,
  sleep,
} from "../scenario.ts";
import type { ServerProcess } from "../server_process.ts";
import { getState, waitForState, waitUntil } from "../server_state.ts";
import { quietRows, quietSummary, seedNoViewer, tickWarning } from "./no_viewer.ts";

const IDLE_TIMEOUT_S = 2;
const VIEWER_MS = { full: 3000, quick: 1000 };
const WINDOW_MS = { full: 10_000, quick: 3000 };
/** Bound on "capture stops after the idle timeout" (the timeout itself is 2 s). */
const STOP_TIMEOUT_MS = 15_000;
/** The targets of the issue. */
const TARGET_CPU_MS_PER_S = 1;

/** One column's numbers. */
interface IdleOutcome {
  readonly quiet: QuietMeasurement;
  /** Last viewer gone -> `/state` says capture stopped, ms (NaN for the seed). */
  readonly stopMs: number;
  /** Capture stopped -> no child process left, ms. */
  readonly childrenGoneMs: number;
  /** The viewer's frame rate while it watched. */
  readonly viewerFps: number;
  /** `/state` after the window still says capture is stopped. */
  readonly stillStopped: boolean | null;
  readonly startupSeconds: number;
}

/** The 3 s viewer, the wait for capture to stop, then the quiet window. */
async function watchThenIdle(
  cfg: BenchConfig,
  server: ServerProcess,
): Promise<Omit<IdleOutcome, "startupSeconds">> {
  const mode = cfg.quick ? "quick" : "full";
  const before = await getState(server.port);
  if (before.source?.running) throw new Error("capture runs before any viewer came");
  const pool = await ClientPool.open({ port: server.port, path: "/stream", strict: true }, 1);
  let viewerFps = NaN;
  try {
    const viewer = pool.clients[0];
    if (viewer.error) throw new Error(`the viewer could not connect: ${viewer.error}`);
    await waitUntil("the viewer's first frame", () => viewer.gotFrame, 20_000);
    pool.beginWindow();
    await sleep(VIEWER_MS[mode]); // How long the viewer watches: a duration, not a wait.
    viewerFps = pool.endWindow().fps.p50;
  } finally {
    await pool.close();
  }
  const stopped = await waitForState(
    server.port,
    "capture to stop after the last viewer left",
    (s) => s.source?.running === false && s.clients === 0,
    STOP_TIMEOUT_MS,
  );
  const childrenGoneMs = await waitUntil(
    "tuchuan's child processes to exit",
    () => server.sampler.descendants().length === 0,
    5000,
  ).catch(() => NaN);
  const quiet = await measureQuiet(server, WINDOW_MS[mode]);
  const after = await getState(server.port).catch(() => null);
  return {
    quiet,
    stopMs: stopped.ms,
    childrenGoneMs,
    viewerFps,
    stillStopped: after ? after.source?.running === false : null,
  };
}

/** The columns: tuchuan's folder source, tuchuan's ffmpeg source, the seed. */
type Column = { readonly label: string; readonly input?: "folder" | "yuyv640" };

/** The `idle` scenario. */
export const idleScenario: Scenario = {
  name: "idle",
  title: `no viewer after one left, --idle-timeout ${IDLE_TIMEOUT_S}: CPU, children, RSS/PSS`,
  estimateSeconds: (quick) => quick ? 25 : 60,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    const columns: Column[] = [];
    if (cfg.servers.includes("tuchuan")) {
      columns.push({ label: "tuchuan", input: "folder" }, {
        label: "tuchuan yuyv640",
        input: "yuyv640",
      });
    }
    if (cfg.servers.includes("seed")) columns.push({ label: "seed" });
    const outcomes = await perColumn(cfg, columns, (c) => c.label, async (c) => {
      let value: IdleOutcome;
      if (!c.input) {
        const seed = await seedNoViewer(cfg, WINDOW_MS[mode]);
        value = {
          quiet: seed.quiet,
          stopMs: NaN,
          childrenGoneMs: NaN,
          viewerFps: NaN,
          stillStopped: null,
          startupSeconds: seed.startupSeconds,
        };
      } else {
        const cam: MadeStandIn | null = c.input === "folder" ? null : await standIn(c.input);
        const source = cam
          ? ["--source", cam.path, "--encoder", "auto"]
          : ["--source", `${cfg.framesRoot}/640x480`, "--fps", String(cfg.fps)];
        const spec = tuchuanSpec(cfg, `${c.label} --idle-timeout ${IDLE_TIMEOUT_S}`, [
          ...source,
          ...["--idle-timeout", String(IDLE_TIMEOUT_S)],
        ]);
        const run = await withServer(cfg, spec, (server) => watchThenIdle(cfg, server));
        value = { ...run.value, startupSeconds: run.startupSeconds };
      }
      cfg.log(`  ${c.label}: ${quietSummary(value.quiet, 2)}`);
      return value;
    });
    const rows = columnRows<IdleOutcome>(outcomes, [
      {
        metric: "viewer fps while watching",
        digits: 1,
        get: (o) => num(o.viewerFps),
      },
      {
        metric: "last viewer left -> capture stopped",
        unit: "ms",
        digits: 0,
        get: (o, col) => col === "seed" ? "never (no idle mode)" : num(o.stopMs),
      },
      {
        metric: "capture stopped -> no child left",
        unit: "ms",
        digits: 0,
        get: (o, col) => col === "seed" ? "n/a" : num(o.childrenGoneMs),
      },
      ...quietRows<IdleOutcome>((o) => o.quiet),
      {
        metric: "capture still stopped after",
        get: (o) => o.stillStopped === null ? "n/a" : o.stillStopped ? "yes" : "NO",
      },
    ]);
    const warnings = columnFailures(outcomes, (v, column) => {
      const out = tickWarning(column, v.quiet);
      if (column === "seed") return out;
      if (v.quiet.cpuMsPerSecond >= TARGET_CPU_MS_PER_S) {
        out.push(
          `${column}: ${v.quiet.cpuMsPerSecond.toFixed(2)} ms/s of CPU idle, over the ` +
            `${TARGET_CPU_MS_PER_S} ms/s target`,
        );
      }
      if (v.quiet.childrenMax > 0) {
        out.push(
          `${column}: ${v.quiet.childrenMax} child process(es) while idle: ` +
            v.quiet.childNames.join(", "),
        );
      }
      if (v.stillStopped === false) out.push(`${column}: capture restarted while idle`);
      return out;
    });
    return {
      name: "idle",
      title: this.title,
      columns: outcomes.map((o) => o.column),
      compare: true,
      rows,
      notes: [
        `tuchuan = --source ${cfg.framesRoot}/640x480 --fps ${cfg.fps} (no ffmpeg); tuchuan ` +
        "yuyv640 = a raw YUYV 640x480 file standing in for a camera (ffmpeg-encode while " +
        `capturing); both --idle-timeout ${IDLE_TIMEOUT_S}, no --always-on.`,
        `one viewer for ${VIEWER_MS[mode] / 1000} s, then /state polled until capture ` +
        `stopped, then ${WINDOW_MS[mode] / 1000} s with no request at all.`,
        "CPU = the tree's thread run times (/proc/PID/task/*/schedstat, ns) over the window; " +
        `target < ${TARGET_CPU_MS_PER_S} ms/s and 0 child processes.`,
        "seed = the same frames with no viewer: it has no idle mode, its camera thread reads " +
        `${cfg.fps} frames a second forever.`,
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.column, o.value ?? { error: o.error }])),
    };
  },
};
