/**
 * `clients1`, `clients50`, `clients200`: N viewers of the 640x480 stream at 30 fps. Does every
 * viewer get every frame, what does fan-out cost in CPU per frame delivered, how late do frames
 * arrive, and how much memory does the server hold?
 *
 * @module
 */
import { replaySpec, withServer } from "../launch.ts";
import { measureWindow, type WindowMeasurement } from "../load_window.ts";
import {
  type BenchConfig,
  failureWarnings,
  num,
  perServer,
  rowsFor,
  type Scenario,
  type ScenarioResult,
} from "../scenario.ts";
import { loadWarnings } from "./warnings.ts";
import { benchCpuRow, cpuPer1000FramesRow, peakMemoryRows } from "./window_rows.ts";

const WARMUP_MS = { full: 1500, quick: 300 };
const DURATION_MS = { full: 10_000, quick: 1500 };

/** Options of {@link clientsScenario}. */
export interface ClientsOptions {
  /**
   * Count tuchuan's parts with the light counter (`StreamTarget.light`) instead of the full
   * multipart reader, which copies each part and builds its headers. At 200 viewers the reader
   * took the load client's one thread 28–32 % of a core against the counter's 9 %: the 200 parts
   * of a frame arrive within a few milliseconds and waited for that thread, so the client
   * reported its own queue as latency (p95 12.7–13.6 ms against 4.7–4.9 with the counter, the
   * server's send delay 4–6 ms in both). The counter checks the same framing and whole JPEGs.
   * The seed sends no Content-Length, so it is always read with the full reader.
   */
  readonly light?: boolean;
}

/** The scenario with `count` concurrent clients. */
export function clientsScenario(count: number, options: ClientsOptions = {}): Scenario {
  const name = `clients${count}`;
  const title = `${count} concurrent client${count === 1 ? "" : "s"}, 640x480 @ 30 fps replay`;
  return {
    name,
    title,
    estimateSeconds: (quick) => quick ? 8 : 30,
    async run(cfg: BenchConfig): Promise<ScenarioResult> {
      const t0 = performance.now();
      const mode = cfg.quick ? "quick" : "full";
      const outcomes = await perServer(cfg, async (kind) => {
        const run = await withServer(cfg, replaySpec(cfg, kind), (server) =>
          measureWindow(server, {
            clients: count,
            warmupMs: WARMUP_MS[mode],
            durationMs: DURATION_MS[mode],
            light: options.light,
          }));
        const m: WindowMeasurement = run.value;
        cfg.log(
          `  ${kind}: ${m.load.totalFrames} frames, fps p50 ${m.load.fps.p50.toFixed(1)}, ` +
            `cpu ${m.serverCpuSeconds.toFixed(2)} s`,
        );
        return m;
      });
      const rows = rowsFor<WindowMeasurement>(outcomes, [
        { metric: "clients connected", get: (m) => `${m.load.connected}/${m.load.clients}` },
        { metric: "load client's parser", get: (m) => m.light ? "light counter" : "full reader" },
        {
          metric: "per-client fps min",
          better: "higher",
          digits: 1,
          headline: count > 1,
          get: (m) => num(m.load.fps.min),
        },
        {
          metric: "per-client fps p50",
          better: "higher",
          digits: 1,
          headline: count === 1,
          get: (m) => num(m.load.fps.p50),
        },
        {
          metric: "total frames delivered",
          better: "higher",
          digits: 0,
          get: (m) => m.load.totalFrames,
        },
        {
          metric: "throughput",
          unit: "MB/s",
          better: "higher",
          get: (m) => m.load.totalBytes / 1e6 / m.load.windowSeconds,
        },
        { metric: "bad parts", better: "lower", digits: 0, get: (m) => m.load.badParts },
        { metric: "server CPU", unit: "s", better: "lower", get: (m) => m.serverCpuSeconds },
        {
          metric: "  of which child processes",
          unit: "s",
          get: (m) => m.childCpuSeconds,
        },
        cpuPer1000FramesRow<WindowMeasurement>("server", (m) => m),
        ...(["p50", "p95", "p99"] as const).map((p) => ({
          metric: `latency ${p}`,
          unit: "ms",
          better: "lower" as const,
          digits: 1,
          headline: p === "p50",
          get: (m: WindowMeasurement) => num(m.load.latencyMs[p]),
        })),
        ...(["p50", "p95", "p99"] as const).map((p) => ({
          metric: `server send delay ${p}`,
          unit: "ms",
          better: "lower" as const,
          digits: 2,
          get: (m: WindowMeasurement) => m.serverDelayMs ? num(m.serverDelayMs[p]) : null,
        })),
        ...peakMemoryRows<WindowMeasurement>((m) => m),
        benchCpuRow<WindowMeasurement>((m) => m),
      ]);
      return {
        name,
        title,
        columns: outcomes.map((o) => o.kind),
        compare: true,
        rows,
        notes: [
          `window ${DURATION_MS[mode] / 1000} s after ${WARMUP_MS[mode] / 1000} s warm-up; ` +
          "fps = complete JPEG parts per client per second inside the window.",
          "parser: the full reader copies each part and builds its headers; the light counter " +
          "checks the same framing and whole JPEGs without copying, at a third of the client's " +
          "CPU, so less of its latency is the client's own queue (tuchuan only: it needs " +
          "Content-Length).",
          "latency = arrival wall time - X-Timestamp (capture time); the seed sends no timestamp.",
          "server send delay = capture until the part was written to the viewer's connection " +
          "(the kernel took it: on loopback it is then in the client's socket), from tuchuan's " +
          "/metrics (tuchuan_send_delay_seconds, linear within its buckets): the server's share " +
          "of the latency, without the load client's own queueing.",
          "CPU, RSS and PSS are the server's whole process tree (child processes, such as an " +
          "ffmpeg, included); PSS counts pages shared between processes once.",
        ],
        warnings: failureWarnings(outcomes, (m, kind) => loadWarnings(kind, m)),
        seconds: (performance.now() - t0) / 1000,
        raw: Object.fromEntries(outcomes.map((o) => [o.kind, o.value ?? { error: o.error }])),
      };
    },
  };
}
