/**
 * `camera`: what the camera path costs, one viewer. There is no `/dev/video*` here, so files in
 * the formats a USB camera delivers stand in for one (bench/camera_inputs.ts): raw YUYV 640x480
 * and 1280x720 (tuchuan's `ffmpeg-encode` path: ffmpeg converts and JPEG-encodes every frame)
 * and MJPEG 640x480 (`passthrough`: ffmpeg copies the camera's JPEGs). ffmpeg reads each file at
 * 30 fps (`-re`), as it would read the camera.
 *
 * Reported: the plan `/state` shows, the ffmpeg command tuchuan ran (checked against tuchuan's
 * own builder, which the `ffmpegopts` scenario runs alone), tree CPU per 1000 frames, latency,
 * the cold start (capture off -> first frame) and peak RSS/PSS.
 *
 * @module
 */
import {
  type MadeStandIn,
  readCmdline,
  STAND_INS,
  standIn,
  type StandInName,
  tuchuanFfmpegArgv,
} from "../camera_inputs.ts";
import { tuchuanSpec, withServer } from "../launch.ts";
import { timeToFirstFrame } from "../load_client.ts";
import { measureWindow, type WindowMeasurement } from "../load_window.ts";
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
import type { ServerProcess } from "../server_process.ts";
import { getState } from "../server_state.ts";
import { loadWarnings } from "./warnings.ts";
import { benchCpuRow, cpuPer1000FramesRow, latencyRows, peakMemoryRows } from "./window_rows.ts";

const WARMUP_MS = { full: 2000, quick: 500 };
const DURATION_MS = { full: 10_000, quick: 2000 };

/** One stand-in's numbers. */
export interface CameraOutcome {
  readonly input: MadeStandIn;
  readonly window: WindowMeasurement;
  /** `/state`'s encoder path and reason. */
  readonly path: string;
  readonly reason: string;
  /** The ffmpeg command tuchuan ran (from /proc), and whether it is the builder's. */
  readonly ffmpegArgv: string[] | null;
  readonly matchesBuilder: boolean;
  /** Viewer connects with capture stopped -> first frame, ms. */
  readonly coldFirstFrameMs: number;
  readonly startupSeconds: number;
}

/** The ffmpeg child tuchuan runs, as its argv without `ffmpeg`, or null. */
export function ffmpegChildArgv(server: ServerProcess): string[] | null {
  for (const pid of server.sampler.descendants()) {
    const argv = readCmdline(pid);
    if (argv && /(^|\/)ffmpeg$/.test(argv[0])) return argv.slice(1);
  }
  return null;
}

async function measureCamera(cfg: BenchConfig, name: StandInName): Promise<CameraOutcome> {
  const mode = cfg.quick ? "quick" : "full";
  const input = await standIn(name);
  // Capture starts with the first viewer (no --always-on), so the cold start is measured; the
  // default 10 s idle timeout keeps it running between that viewer and the measured one.
  const spec = tuchuanSpec(cfg, `tuchuan camera stand-in ${name}`, [
    ...["--source", input.path, "--encoder", "auto"],
  ]);
  const run = await withServer(cfg, spec, async (server) => {
    const target = { port: server.port, path: "/stream", strict: true };
    const cold = await timeToFirstFrame(target, 20_000);
    const state = await getState(server.port);
    const ffmpegArgv = ffmpegChildArgv(server);
    const window = await measureWindow(server, {
      clients: 1,
      warmupMs: WARMUP_MS[mode],
      durationMs: DURATION_MS[mode],
    });
    return { cold, state, ffmpegArgv, window };
  });
  const { cold, state, ffmpegArgv, window } = run.value;
  const built = tuchuanFfmpegArgv(input);
  return {
    input,
    window,
    path: state.encoder?.path ?? "?",
    reason: state.encoder?.reason ?? "",
    ffmpegArgv,
    matchesBuilder: ffmpegArgv !== null && ffmpegArgv.join("\0") === built.join("\0"),
    coldFirstFrameMs: cold.ms,
    startupSeconds: run.startupSeconds,
  };
}

/** The `camera` scenario. */
export const cameraScenario: Scenario = {
  name: "camera",
  title: "camera path, 1 viewer: raw YUYV (ffmpeg-encode) and MJPEG (passthrough) stand-ins",
  estimateSeconds: (quick) => quick ? 20 : 55,
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    if (!cfg.servers.includes("tuchuan")) {
      return skippedResult(this, "tuchuan is not among --servers (the seed reads no camera here)");
    }
    const outcomes = await perColumn(cfg, STAND_INS, (s) => s.name, async (s) => {
      const o = await measureCamera(cfg, s.name);
      cfg.log(
        `  ${s.name}: ${o.path}, fps ${o.window.load.fps.p50.toFixed(1)}, ` +
          `${o.window.cpuPer1000Frames.toFixed(2)} CPU-s/1000 frames`,
      );
      return o;
    });
    const cores = navigator.hardwareConcurrency || 1;
    const rows = columnRows<CameraOutcome>(outcomes, [
      { metric: "input", get: (o) => o.input.what },
      { metric: "encode path (/state)", headline: true, get: (o) => o.path },
      { metric: "delivered fps", digits: 1, get: (o) => num(o.window.load.fps.p50) },
      { metric: "frames in window", digits: 0, get: (o) => o.window.load.totalFrames },
      { metric: "bad parts", digits: 0, get: (o) => o.window.load.badParts },
      { metric: "tree CPU", unit: "s", get: (o) => o.window.serverCpuSeconds },
      { metric: "  of which ffmpeg", unit: "s", get: (o) => o.window.childCpuSeconds },
      {
        metric: "tree CPU share",
        unit: `% of ${cores} cores`,
        digits: 1,
        get: (o) => o.window.serverCpuSeconds / o.window.load.windowSeconds / cores * 100,
      },
      cpuPer1000FramesRow<CameraOutcome>("tree", (o) => o.window),
      ...latencyRows<CameraOutcome>((o) => o.window.load.latencyMs),
      {
        metric: "cold start: connect -> first frame",
        unit: "ms",
        digits: 0,
        get: (o) => num(o.coldFirstFrameMs),
      },
      ...peakMemoryRows<CameraOutcome>((o) => o.window, { headline: true }),
      {
        metric: "ffmpeg argv = bench builder's",
        get: (o) => o.ffmpegArgv === null ? "no ffmpeg seen" : o.matchesBuilder ? "yes" : "NO",
      },
      benchCpuRow<CameraOutcome>((o) => o.window),
    ]);
    const warnings = columnFailures(outcomes, (v, column) => {
      const out = loadWarnings(column, v.window);
      if (v.path !== v.input.expectedPath) {
        out.push(`${column}: /state says ${v.path}, expected ${v.input.expectedPath}`);
      }
      if (v.ffmpegArgv && !v.matchesBuilder) {
        out.push(
          `${column}: tuchuan ran ffmpeg ${v.ffmpegArgv.join(" ")}, the bench builder gives ` +
            tuchuanFfmpegArgv(v.input).join(" "),
        );
      }
      return out;
    });
    const commands = outcomes.flatMap((o) =>
      o.value?.ffmpegArgv ? [`${o.column}: \`ffmpeg ${o.value.ffmpegArgv.join(" ")}\``] : []
    );
    return {
      name: "camera",
      title: this.title,
      columns: outcomes.map((o) => o.column),
      compare: false,
      rows,
      notes: [
        "--source FILE --encoder auto; FILE is a 4 s testsrc2 clip made with ffmpeg for this " +
        "run (YUYV: -pix_fmt yuyv422 -c:v rawvideo .nut; MJPEG: -c:v mjpeg -q:v 5 .mkv), " +
        "looped in real time by tuchuan's ffmpeg (-re -stream_loop -1) like a 30 fps camera.",
        `1 viewer, ${DURATION_MS[mode] / 1000} s window after ${WARMUP_MS[mode] / 1000} s ` +
        "warm-up; the cold start is the first viewer's wait while capture (ffmpeg) starts.",
        "latency = arrival - X-Timestamp, stamped when tuchuan reads the frame from ffmpeg: " +
        "ffmpeg's own buffering is not in it (see ffmpegopts for ffmpeg alone).",
        ...commands,
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(outcomes.map((o) => [o.column, o.value ?? { error: o.error }])),
    };
  },
};
