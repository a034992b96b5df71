/**
 * `alwayson`: what `--always-on` costs with nobody watching: capture runs (frames read, the
 * newest kept for the first viewer and for snapshots) and no viewer takes them. 10 s with no
 * request at all, once `/state` says the source delivers: tree CPU, child processes, RSS and PSS,
 * for the JPEG folder (tuchuan reads it itself, no ffmpeg) and for two camera stand-ins (raw
 * YUYV: ffmpeg encodes every frame; MJPEG: ffmpeg copies them). The seed with no viewer does the
 * same work as the folder source (its camera thread reads the frames).
 *
 * @module
 */
import { standIn, type StandInName } from "../camera_inputs.ts";
import { tuchuanSpec, withServer } from "../launch.ts";
import { measureQuiet } from "../quiet_window.ts";
import {
  type BenchConfig,
  columnFailures,
  columnRows,
  num,
  perColumn,
  type Scenario,
  type ScenarioResult,
} from "../scenario.ts";
import { delivering, waitForState } from "../server_state.ts";
import { type NoViewer, quietRows, quietSummary, seedNoViewer, tickWarning } from "./no_viewer.ts";

const WINDOW_MS = { full: 10_000, quick: 3000 };
/** The source must deliver this many fps (per `/state`) before the window starts. */
const MIN_FPS = 20;

/** One column's numbers. */
interface AlwaysOnOutcome extends NoViewer {
  /** The encode path `/state` shows (null for the seed). */
  readonly path: string | null;
  /** Start-up to "delivering" per `/state`, ms. */
  readonly onlineMs: number;
}

type Column = { readonly label: string; readonly input: "folder" | StandInName | "seed" };

const COLUMNS: readonly Column[] = [
  { label: "tuchuan", input: "folder" },
  { label: "tuchuan yuyv640", input: "yuyv640" },
  { label: "tuchuan mjpeg640", input: "mjpeg640" },
  { label: "seed", input: "seed" },
];

async function measureTuchuan(cfg: BenchConfig, c: Column): Promise<AlwaysOnOutcome> {
  const mode = cfg.quick ? "quick" : "full";
  const source = c.input === "folder"
    ? ["--source", `${cfg.framesRoot}/640x480`, "--fps", String(cfg.fps)]
    : ["--source", (await standIn(c.input as StandInName)).path, "--encoder", "auto"];
  const spec = tuchuanSpec(cfg, `${c.label} --always-on`, [...source, "--always-on"]);
  const run = await withServer(cfg, spec, async (server) => {
    const online = await waitForState(
      server.port,
      `the source to deliver ${MIN_FPS} fps`,
      (s) => delivering(s, MIN_FPS),
      20_000,
      200,
    );
    const quiet = await measureQuiet(server, WINDOW_MS[mode]);
    return { quiet, online };
  });
  return {
    quiet: run.value.quiet,
    startupSeconds: run.startupSeconds,
    path: run.value.online.state.encoder?.path ?? null,
    onlineMs: run.value.online.ms,
  };
}

/** The `alwayson` scenario. */
export const alwaysOnScenario: Scenario = {
  name: "alwayson",
  title: "--always-on with no viewer: CPU, children, RSS/PSS (folder and camera stand-ins)",
  estimateSeconds: (quick) => quick ? 25 : 60,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    const columns = COLUMNS.filter((c) =>
      cfg.servers.includes(c.input === "seed" ? "seed" : "tuchuan")
    );
    const outcomes = await perColumn(cfg, columns, (c) => c.label, async (c) => {
      const value: AlwaysOnOutcome = c.input === "seed"
        ? { ...(await seedNoViewer(cfg, WINDOW_MS[mode])), path: null, onlineMs: NaN }
        : await measureTuchuan(cfg, c);
      cfg.log(`  ${c.label}: ${quietSummary(value.quiet, 1)}`);
      return value;
    });
    const rows = columnRows<AlwaysOnOutcome>(outcomes, [
      { metric: "encode path (/state)", get: (o) => o.path ?? "n/a (reads JPEGs)" },
      ...quietRows<AlwaysOnOutcome>((o) => o.quiet),
      {
        metric: "CPU per 1000 frames captured",
        unit: "s",
        better: "lower",
        digits: 3,
        get: (o) => num(o.quiet.cpuMsPerSecond / cfg.fps),
      },
    ]);
    const warnings = columnFailures(outcomes, (v, column) => tickWarning(column, v.quiet));
    return {
      name: "alwayson",
      title: this.title,
      columns: outcomes.map((o) => o.column),
      compare: true,
      rows,
      notes: [
        `tuchuan = --source ${cfg.framesRoot}/640x480 --fps ${cfg.fps} --always-on; yuyv640 / ` +
        "mjpeg640 = camera stand-in files (see camera) with --encoder auto --always-on.",
        `${WINDOW_MS[mode] / 1000} s with no request at all, after /state showed the source ` +
        `delivering >= ${MIN_FPS} fps; CPU = thread run times of the whole tree.`,
        "CPU per 1000 frames captured = (ms/s) / 30 fps: the cost of capture alone, to set " +
        "against the camera scenario's cost with one viewer.",
        "seed = the same frames with no viewer (its camera thread always runs; measured once " +
        "per run, shared with idle).",
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.column, o.value ?? { error: o.error }])),
    };
  },
};
