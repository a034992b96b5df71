/**
 * One measurement window of stream load against a running server: open N clients, warm up, then
 * count frames, server CPU and peak RSS over a fixed window, with the load client's own CPU so a
 * client-bound result can be told from a server-bound one.
 *
 * @module
 */
import {
  type DelayHistogram,
  type DelayQuantiles,
  delayQuantiles,
  readSendDelay,
} from "./send_delay.ts";
import { ClientPool, type LoadReport, type StreamTarget } from "./load_client.ts";
import { selfCpuSeconds, windowCpu } from "./proc_stats.ts";
import { sleep } from "./scenario.ts";
import type { ServerProcess } from "./server_process.ts";

/** What to load and for how long. */
export interface WindowOptions {
  readonly clients: number;
  /** Default `/stream`. */
  readonly path?: string;
  /** Time between all clients connected and the window start (lets rates settle). */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Started at the window start and awaited after it (e.g. the slow python client). */
  readonly alongside?: () => Promise<unknown>;
  /** Count parts with the light counter (tuchuan only; see {@link StreamTarget.light}). */
  readonly light?: StreamTarget["light"];
}

/**
 * What a window cost, the same for one stream or several: CPU over the server trees (summed over
 * the distinct servers when there are several), peaks, and the load client's own CPU.
 */
export interface WindowCost {
  /** Server process tree CPU over the window, seconds. */
  readonly serverCpuSeconds: number;
  /** The part of it used by the server's child processes (tuchuan's ffmpeg), seconds. */
  readonly childCpuSeconds: number;
  /** Server CPU per 1000 delivered frames, seconds (the cost of fan-out). */
  readonly cpuPer1000Frames: number;
  /** Peak RSS of the server tree from launch (or the reset) to window end, MiB. */
  readonly peakRssMb: number;
  /** Peak PSS of the server tree, MiB (shared pages counted once). */
  readonly peakPssMb: number;
  /** The benchmark process's CPU over the window, as a fraction of one core. */
  readonly benchCpuShare: number;
}

/** The window's results. */
export interface WindowMeasurement extends WindowCost {
  readonly load: LoadReport;
  /** tuchuan's own send delay over the window (capture to hand-off), from `/metrics`. */
  readonly serverDelayMs?: DelayQuantiles | null;
  /** The result of `alongside`, if any. */
  readonly alongside?: unknown;
  /** True when the parts were counted by the light counter, not the full reader. */
  readonly light: boolean;
}

/** What {@link countWindow} measured over the opened pools. */
interface CountedWindow {
  readonly reports: LoadReport[];
  /** Frames over all pools. */
  readonly totalFrames: number;
  readonly cost: WindowCost;
  readonly seconds: number;
  readonly alongside: unknown;
}

/**
 * The window itself over already opened pools: warm up, then count every pool's frames and the
 * servers' CPU over the same span; peaks are read after a last PSS sample so they include the
 * window's end.
 */
async function countWindow(
  servers: readonly ServerProcess[],
  pools: readonly ClientPool[],
  opts: {
    readonly warmupMs: number;
    readonly durationMs: number;
    readonly resetPeaks?: boolean;
    readonly alongside?: () => Promise<unknown>;
  },
): Promise<CountedWindow> {
  await sleep(opts.warmupMs);
  if (opts.resetPeaks) { for (const s of servers) s.sampler.resetPeak(); }
  const cpu = () => servers.map((s) => s.sampler.cpuBreakdown());
  const precise = () => servers.map((s) => s.sampler.preciseCpu());
  const cpu0 = cpu();
  const precise0 = precise();
  const self0 = selfCpuSeconds();
  const t0 = performance.now();
  for (const p of pools) p.beginWindow();
  const alongside = opts.alongside?.();
  await sleep(opts.durationMs);
  const reports = pools.map((p) => p.endWindow());
  const precise1 = precise();
  const cpu1 = cpu();
  const self1 = selfCpuSeconds();
  const seconds = (performance.now() - t0) / 1000;
  for (const s of servers) s.sampler.sample({ pss: true });
  const extra = alongside ? await alongside : undefined;
  // The threads' run times where they are complete: 10 ms ticks are too coarse for one viewer.
  const serverCpuSeconds = precise1.reduce((n, c, i) => n + windowCpu(precise0[i], c).seconds, 0);
  const totalFrames = reports.reduce((n, r) => n + r.totalFrames, 0);
  return {
    reports,
    totalFrames,
    cost: {
      serverCpuSeconds,
      childCpuSeconds: cpu1.reduce((n, c, i) => n + c.children - cpu0[i].children, 0),
      cpuPer1000Frames: totalFrames > 0 ? serverCpuSeconds / totalFrames * 1000 : NaN,
      peakRssMb: servers.reduce((n, s) => n + s.sampler.peakKb, 0) / 1024,
      peakPssMb: servers.reduce((n, s) => n + s.sampler.peakPssKb, 0) / 1024,
      benchCpuShare: (self1 - self0) / seconds,
    },
    seconds,
    alongside: extra,
  };
}

/** Runs one window against `server`; strict parsing is chosen by the server's kind. */
export async function measureWindow(
  server: ServerProcess,
  opts: WindowOptions,
): Promise<WindowMeasurement> {
  const target = {
    port: server.port,
    path: opts.path ?? "/stream",
    strict: server.spec.kind === "tuchuan",
    light: opts.light === true && server.spec.kind === "tuchuan",
  };
  const pool = await ClientPool.open(target, opts.clients);
  const tuchuan = server.spec.kind === "tuchuan";
  try {
    // Read after the warm-up and at the window's end: the alongside hook runs at its start.
    let before: DelayHistogram | null = null;
    const w = await countWindow([server], [pool], {
      ...opts,
      alongside: async () => {
        if (tuchuan) before = await readSendDelay(server.port);
        return opts.alongside?.();
      },
    });
    const after = tuchuan ? await readSendDelay(server.port) : null;
    const serverDelayMs = before && after ? delayQuantiles(before, after) : null;
    return {
      load: w.reports[0],
      ...w.cost,
      alongside: w.alongside,
      serverDelayMs,
      light: target.light,
    };
  } finally {
    await pool.close();
  }
}

/** One stream of a multi-stream window: which server, which path. */
export interface StreamSpec {
  readonly server: ServerProcess;
  /** e.g. `/a/stream`. */
  readonly path: string;
  /** Viewers on this stream. */
  readonly clients: number;
}

/**
 * A window over several streams, maybe of several servers, measured together; the peaks are
 * summed over the distinct servers, each since launch, or since the window start with
 * `resetPeaks`.
 */
export interface MultiWindowMeasurement extends WindowCost {
  /** One report per stream, in the order given. */
  readonly streams: LoadReport[];
  /** Frames over all streams. */
  readonly totalFrames: number;
  readonly windowSeconds: number;
}

/**
 * {@link measureWindow} for several streams at once: every stream's clients connect, the window
 * starts and ends for all of them together, and CPU and memory are summed over the servers.
 */
export async function measureMultiWindow(
  streams: readonly StreamSpec[],
  opts: {
    readonly warmupMs: number;
    readonly durationMs: number;
    /**
     * Peaks from the window start only. PSS divides a shared page among the processes mapping
     * it *at that moment*, so a process that ran alone for a while during start-up peaks high;
     * comparing layouts of different process counts needs the steady state.
     */
    readonly resetPeaks?: boolean;
  },
): Promise<MultiWindowMeasurement> {
  const servers = [...new Set(streams.map((s) => s.server))];
  const pools: ClientPool[] = [];
  try {
    for (const s of streams) {
      const target = {
        port: s.server.port,
        path: s.path,
        strict: s.server.spec.kind === "tuchuan",
      };
      pools.push(await ClientPool.open(target, s.clients));
    }
    const w = await countWindow(servers, pools, opts);
    return {
      streams: w.reports,
      totalFrames: w.totalFrames,
      ...w.cost,
      windowSeconds: w.seconds,
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}
