/**
 * One measurement window of stream load against a running server: open N clients, warm up, then
 * count frames, server CPU and peak RSS over a fixed window, with the load client's own CPU so a
 * client-bound result can be told from a server-bound one.
 *
 * @module
 */
import { ClientPool, type LoadReport } from "./load_client.ts";
import { selfCpuSeconds } from "./proc_stats.ts";
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
}

/** The window's results. */
export interface WindowMeasurement {
  readonly load: LoadReport;
  /** Server process tree CPU over the window, seconds. */
  readonly serverCpuSeconds: number;
  /** The part of it used by the server's child processes (tuchuan's ffmpeg), seconds. */
  readonly childCpuSeconds: number;
  /** Server CPU per 1000 delivered frames, seconds (the cost of fan-out). */
  readonly cpuPer1000Frames: number;
  /** Peak RSS of the server tree from launch to window end, MiB. */
  readonly peakRssMb: number;
  /** The benchmark process's CPU over the window, as a fraction of one core. */
  readonly benchCpuShare: number;
  /** The result of `alongside`, if any. */
  readonly alongside?: unknown;
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
  };
  const pool = await ClientPool.open(target, opts.clients);
  try {
    await sleep(opts.warmupMs);
    const cpu0 = server.sampler.cpuBreakdown();
    const self0 = selfCpuSeconds();
    const t0 = performance.now();
    pool.beginWindow();
    const alongside = opts.alongside?.();
    await sleep(opts.durationMs);
    const load = pool.endWindow();
    const cpu1 = server.sampler.cpuBreakdown();
    const self1 = selfCpuSeconds();
    const seconds = (performance.now() - t0) / 1000;
    server.sampler.sample();
    const extra = alongside ? await alongside : undefined;
    const serverCpuSeconds = cpu1.total - cpu0.total;
    return {
      load,
      serverCpuSeconds,
      childCpuSeconds: cpu1.children - cpu0.children,
      cpuPer1000Frames: load.totalFrames > 0 ? serverCpuSeconds / load.totalFrames * 1000 : NaN,
      peakRssMb: server.sampler.peakKb / 1024,
      benchCpuShare: (self1 - self0) / seconds,
      alongside: extra,
    };
  } finally {
    await pool.close();
  }
}
