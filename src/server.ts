/**
 * `startServer(config)`: the seed's non-blocking `start_server()` as a library. Wires config →
 * source → camera → hub → HTTP, resolves once listening, and `stop()` ends every stream with
 * the closing boundary, stops ffmpeg and the workers, and resolves when all is closed.
 *
 * @module
 */
import { BufferPool } from "./buffer_pool.ts";
import { Camera } from "./camera.ts";
import { ClientRegistry } from "./client_registry.ts";
import { type Config, DEFAULT_CONFIG, VERSION } from "./config.ts";
import type { Clock } from "./frame.ts";
import { systemClock } from "./clock.ts";
import { FrameHub } from "./frame_hub.ts";
import { createApp } from "./http/app.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { ImageJobs } from "./image_jobs.ts";
import { Metrics } from "./metrics.ts";
import { loadOfflineImage } from "./offline_frame.ts";
import { openSource } from "./source/open_source.ts";
import { SocketBacklog } from "./socket_backlog.ts";
import type { Source } from "./source/source.ts";
import type { SupervisorTiming } from "./supervisor.ts";

/** Extra wiring for tests and embedding. */
export interface ServerDeps {
  clock?: Clock;
  log?: Logger;
  /** Use this source instead of resolving `config.source`. */
  source?: Source;
  /** Supervisor timing overrides (tests). */
  timing?: Partial<SupervisorTiming>;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** The bound port. */
  port: number;
  /** The resolved source. */
  source: Source;
  /** The capture pipeline (for tests and the banner). */
  camera: Camera;
  /** Counters. */
  metrics: Metrics;
  /** The encode path chosen and why. */
  encoder: { kind: string; reason: string; workers: number };
  /** Ends streams with the closing boundary, stops capture and the HTTP server. */
  stop(): Promise<void>;
  /** Resolves when the HTTP server has closed. */
  finished: Promise<void>;
}

/** Starts tuchuan; resolves once it listens. Throws for a bad source or offline image. */
export async function startServer(
  options: Partial<Config> = {},
  deps: ServerDeps = {},
): Promise<RunningServer> {
  const config: Config = { ...DEFAULT_CONFIG, ...options };
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  const metrics = new Metrics();
  if (config.overlay && config.encoder === "ffmpeg") {
    throw new TypeError(
      "Invalid --encoder ffmpeg with --overlay: the overlay is drawn by imagescript (use --encoder auto)",
    );
  }
  const needsPixels = config.overlay !== null || config.encoder === "imagescript";
  const buffers = new BufferPool(config.workers + 2);
  const source = deps.source ?? await openSource({
    source: config.source,
    width: config.width,
    height: config.height,
    fps: config.fps,
    quality: config.quality,
    needsPixels,
    clock,
    hooks: {
      onCorrupt: () => metrics.drop("corrupt"),
      onSpawn: (pid) => log.debug(`ffmpeg running as pid ${pid}`),
      buffers,
    },
  });
  const encodeWithImagescript = needsPixels || source.output === "rgba";
  // Getters: an http(s) source learns whether it can pass JPEG through only when it connects.
  const encoder = encodeWithImagescript
    ? {
      kind: "imagescript",
      reason: config.overlay
        ? "the overlay needs the pixels"
        : config.encoder === "imagescript"
        ? "--encoder imagescript"
        : "the source delivers pixels",
      workers: config.workers,
    }
    : {
      get kind() {
        return source.reason.includes("passthrough") ? "passthrough" : "ffmpeg";
      },
      get reason() {
        return source.reason;
      },
      workers: 0,
    };
  const offlineImage = config.offlineImage
    ? await loadOfflineImage(config.offlineImage, config.width, config.height)
    : null;
  const hub = new FrameHub({
    historyMs: config.history * 1000,
    historyMax: Math.ceil(config.history * config.fps) + 2,
  });
  const images = new ImageJobs();
  const camera = new Camera({
    images,
    buffers,
    source,
    hub,
    clock,
    metrics,
    log,
    width: config.width,
    height: config.height,
    fps: config.fps,
    quality: config.quality,
    overlay: config.overlay,
    encodeWithImagescript,
    workers: config.workers,
    idleTimeout: config.idleTimeout,
    alwaysOn: config.alwaysOn,
    dropSameFrames: config.dropSameFrames,
    offlineImage,
    timing: deps.timing,
  });
  const stopping = new AbortController();
  const registry = new ClientRegistry({
    maxClients: config.maxClients,
    sendTimeoutMs: config.sendTimeout * 1000,
    now: () => clock.now(),
    onTimeout: (client) => {
      metrics.sendTimeouts++;
      log.warn(`Viewer ${client.id} closed: no progress for ${config.sendTimeout} s`);
    },
  });
  const startedAt = clock.now();
  const backlog: { current: SocketBacklog | null } = { current: null };
  const app = createApp({
    hub,
    camera,
    registry,
    metrics,
    source,
    clock,
    log,
    auth: { user: config.user, password: config.password, token: config.token },
    cors: config.cors,
    history: config.history,
    encoder,
    version: VERSION,
    startedAt,
    stopSignal: stopping.signal,
    backlog,
    images,
  });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    onError: (err) => {
      // A viewer cut off by --send-timeout surfaces here; it is logged where it happens.
      if ((err as Error)?.name === "ClientClosedError") return new Response(null, { status: 500 });
      log.error(`HTTP error: ${(err as Error)?.message ?? err}`);
      return new Response(JSON.stringify({ error: "Internal error" }), {
        status: 500,
        headers: { "Content-Type": "application/json" },
      });
    },
  }, (req, info) => app.fetch(req, { remoteAddr: info.remoteAddr }));
  const addr = await listening.promise;
  backlog.current = new SocketBacklog({
    localPort: addr.port,
    ipv6: addr.hostname.includes(":"),
    now: () => clock.now(),
  });
  camera.start();
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}/`,
    port: addr.port,
    source,
    camera,
    metrics,
    encoder,
    finished: server.finished,
    stop() {
      stopped ??= (async () => {
        // Order matters: end the streams first (closing boundary), then capture, then HTTP.
        stopping.abort();
        hub.close();
        registry.dispose();
        backlog.current?.dispose();
        await camera.close();
        images.close();
        await server.shutdown();
      })();
      return stopped;
    },
  };
}
