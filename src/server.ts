/**
 * `startServer(config)`: the composition root. It builds each camera's pipeline in the order
 * frames flow (source, supervisor, encoder, hub, viewers), then the HTTP app and listener,
 * resolves once listening, and `stop()` takes it all down in reverse: streams end with the
 * closing boundary, then capture stops (ffmpeg killed), then the listener closes.
 *
 * @module
 */
import { BufferPool } from "./core/buffer_pool.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { InputError, messageOf } from "./core/errors.ts";
import { type Logger, prefixLogger, silentLogger } from "./core/logger.ts";
import { MemoryReducer } from "./core/memory_reducer.ts";
import { FileReadError, readFileBounded } from "./core/read_bounded.ts";
import { redactUrls } from "./core/redact.ts";
import { StartupPages } from "./core/startup_pages.ts";
import { VERSION } from "./core/version.ts";
import {
  type CameraSettings,
  type Config,
  DEFAULT_CAMERA_NAME,
  DEFAULT_CONFIG,
} from "./config/config.ts";
import { createApp } from "./http/app.ts";
import type { ConnectionInfo } from "./http/stream_route.ts";
import { ImageJobs } from "./image/image_jobs.ts";
import { ConnectionGuard } from "./net/connection_guard.ts";
import { listenHttp } from "./net/http_listener.ts";
import { SocketTable } from "./net/socket_table.ts";
import type { Camera } from "./pipeline/camera.ts";
import { CameraMetrics } from "./pipeline/camera_metrics.ts";
import { Capture } from "./pipeline/capture.ts";
import { Demand } from "./pipeline/demand.ts";
import { Encoder } from "./pipeline/encoder.ts";
import { FrameHub, HISTORY_STEP_MS } from "./pipeline/frame_hub.ts";
import { HookRunner } from "./pipeline/hook_runner.ts";
import { OfflineLoop } from "./pipeline/offline_loop.ts";
import { Publisher } from "./pipeline/publisher.ts";
import { defaultTiming, Supervisor, type SupervisorTiming } from "./pipeline/supervisor.ts";
import { EncodePlanner } from "./plan/encode_planner.ts";
import { openSource, resolveSource, type SourceProbe, systemProbe } from "./source/open_source.ts";
import type { Source, SourceContext } from "./source/source.ts";
import { ViewerRegistry } from "./viewers/viewer_registry.ts";

/** Extra wiring for tests and embedding. */
export interface ServerDeps {
  clock?: Clock;
  log?: Logger;
  /** Use this source for the first camera instead of opening its `--source`. */
  source?: Source;
  /** Supervisor timing overrides (tests). */
  timing?: Partial<SupervisorTiming>;
  /** How `auto` and paths are resolved (tests). */
  probe?: SourceProbe;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** The bound port. */
  port: number;
  /** The cameras, the first being the one at the top-level URLs. */
  cameras: readonly Camera[];
  /** Ends streams with the closing boundary, stops capture and the HTTP server. */
  stop(): Promise<void>;
  /** Resolves when the HTTP server has closed. */
  finished: Promise<void>;
}

/** The most a `--offline-image` file may weigh. */
const MAX_OFFLINE_IMAGE_BYTES = 16 * 1024 * 1024;
/** The longest a snapshot waits for a frame. */
const SNAPSHOT_TIMEOUT_MS = 5000;

/** What every camera shares. */
interface Shared {
  clock: Clock;
  log: Logger;
  images: ImageJobs;
  hookTimeoutMs: number;
  sendTimeoutMs: number;
  deps: ServerDeps;
  reducer: MemoryReducer;
  /** Start-up's end, in steps: listening, the first frame, a few seconds of frames. */
  pages: StartupPages;
}

/** A camera and what only the root stops. */
interface Built {
  camera: Camera;
  offline: OfflineLoop;
  hooks: HookRunner;
}

/** Each camera's settings: the top-level ones, with a named camera's own options over them. */
function cameraSettings(config: Config): { name: string; settings: CameraSettings }[] {
  if (config.cameras.length === 0) return [{ name: DEFAULT_CAMERA_NAME, settings: config }];
  return config.cameras.map((c) => ({
    name: c.name,
    settings: {
      ...config,
      ...c.options,
      source: c.source,
      hooks: { ...config.hooks, ...c.options.hooks },
    },
  }));
}

/** Reads `--offline-image` with a bound and checks that it decodes. */
async function offlineImage(
  path: string | undefined,
  images: ImageJobs,
): Promise<Uint8Array | null> {
  if (!path) return null;
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, MAX_OFFLINE_IMAGE_BYTES, "offline image");
  } catch (cause) {
    if (cause instanceof FileReadError) {
      throw new InputError(`Invalid --offline-image: ${cause.message}`, {
        cause,
        flag: "--offline-image",
      });
    }
    throw cause;
  }
  try {
    await images.fit(bytes, 16, 16);
  } catch (cause) {
    throw new InputError(`Invalid --offline-image ${path}: ${messageOf(cause)}`, {
      cause,
      flag: "--offline-image",
    });
  }
  return bytes;
}

/** Builds one camera's pipeline, part by part, in the order frames flow. */
async function buildCamera(
  name: string,
  s: CameraSettings,
  first: boolean,
  shared: Shared,
): Promise<Built> {
  const { clock, images } = shared;
  const log = prefixLogger(shared.log, name === DEFAULT_CAMERA_NAME ? "" : `[${name}] `);
  const metrics = new CameraMetrics();
  const buffers = new BufferPool(s.workers + 2);

  // 1. Source: resolving its kind comes first; opening it learns what it offers, and the planner
  //    decides the encode plan from that (the source then reads its input as the plan says).
  const injected = first ? shared.deps.source : undefined;
  const resolved = injected
    ? { kind: injected.kind, input: injected.input, why: "" }
    : await resolveSource(s.source, shared.deps.probe ?? systemProbe);
  const planner = new EncodePlanner(
    resolved.kind,
    {
      encoder: s.encoder,
      overlay: s.overlay !== null,
      size: s.size,
      sizeMode: s.sizeMode,
      orientation: { rotate: s.rotate, flip: s.flip },
    },
    (plan, offer) => log.info(`Encode path: ${plan.path} (${plan.reason}); source: ${offer.mode}`),
  );
  const context: SourceContext = {
    planner,
    clock,
    log,
    size: s.size,
    fps: s.fps,
    quality: s.quality,
    hooks: {
      onCorrupt: () => metrics.drop("corrupt"),
      onSpawn: (pid, line) => log.debug(`ffmpeg running${pid ? ` as pid ${pid}` : ""}: ${line}`),
      buffers,
    },
  };
  if (injected?.offer) planner.decide(injected.offer);
  const source = injected ?? await openSource(resolved, context, { controls: s.controls });
  const label = `${source.kind} ${redactUrls(source.input)}`;

  // 2. Supervisor: restarts the source with backoff, watches for silence, reports online/offline.
  const timing = {
    ...defaultTiming(s.fps ?? source.offer?.fps ?? 30),
    // A camera is unplugged and plugged back: look for it every second, not every 10. Its first
    // frame may take seconds (ffmpeg loading its libraries and opening the device on a small
    // board; 4-5 s in the emulated test camera): allow 10 s before calling the start a failure.
    ...(source.kind === "v4l2" ? { maxBackoffMs: 1000, startupMs: 10_000 } : {}),
    ...shared.deps.timing,
  };
  const supervisor = new Supervisor(source, {
    onFrame: (frame) => {
      metrics.framesCaptured++;
      encoder.submit(frame);
    },
    onOnline: () => {
      offline.stop();
      log.info(`Source online: ${label}`);
      hooks.fire("online", { viewers: viewers.size });
    },
    onOffline: (reason) => {
      log.warn(`Source offline: ${redactUrls(reason)}`);
      offline.start(redactUrls(reason));
      hooks.fire("offline", { viewers: viewers.size, reason });
    },
    onRestart: (attempt, delay) => {
      metrics.restarts++;
      log.info(`Restarting the source in ${delay} ms (restart ${attempt})`);
    },
  }, { clock, timing });

  // 3. Encoder: the plan's path (workers for the overlay, EXIF for orientation, or nothing).
  const encoder = new Encoder({
    planner,
    quality: s.quality,
    overlay: s.overlay,
    workers: s.workers,
    buffers,
    metrics,
    log,
    outputFps: () => publisher.fps(),
    publish: (jpeg, width, height, capturedAt) => {
      publisher.publish(jpeg, width, height, capturedAt);
      shared.pages.frame();
    },
  });

  // 4. Hub: the newest frame for everyone, with a short history; the offline card goes there too.
  const hub = new FrameHub({
    historyMs: s.history * 1000,
    historyMax: Math.ceil((s.history * 1000) / HISTORY_STEP_MS) + 2,
  });
  const publisher = new Publisher({ hub, clock, metrics, dropSameFrames: s.dropSameFrames });
  const offline = new OfflineLoop({
    clock,
    images,
    publisher,
    log,
    quality: s.quality,
    offlineImage: await offlineImage(s.offlineImage, images),
    size: () => publisher.size ?? planner.offer?.size ?? s.size ?? { width: 640, height: 480 },
  });

  // 5. Viewers: who wants frames (demand starts and stops capture), and who is connected.
  const hooks = new HookRunner({
    camera: name,
    hooks: {
      "first-viewer": s.hooks.onFirstViewer,
      "last-viewer": s.hooks.onLastViewer,
      offline: s.hooks.onOffline,
      online: s.hooks.onOnline,
    },
    timeoutMs: shared.hookTimeoutMs,
    clock,
    log,
    metrics,
  });
  let viewersBefore = 0;
  const viewers = new ViewerRegistry({
    maxClients: s.maxClients,
    sendTimeoutMs: shared.sendTimeoutMs,
    clock,
    onCountChange: (count) => {
      if (count > viewersBefore) shared.reducer.joined();
      else shared.reducer.left();
      if (viewersBefore === 0 && count > 0) hooks.fire("first-viewer", { viewers: count });
      if (viewersBefore > 0 && count === 0) hooks.fire("last-viewer", { viewers: count });
      viewersBefore = count;
    },
    onTimeout: (viewer) => {
      metrics.sendTimeouts++;
      log.warn(`Viewer ${viewer.id} closed: no progress for ${shared.sendTimeoutMs / 1000} s`);
    },
  });
  const demand = new Demand({
    clock,
    idleTimeout: s.idleTimeout,
    onWanted: () => capture.update(),
    onIdle: () => void capture.idle(),
  });
  const capture = new Capture({
    supervisor,
    encoder,
    publisher,
    offline,
    hub,
    log,
    wanted: () => demand.count > 0 || s.alwaysOn,
    label,
  });
  const camera: Camera = {
    name,
    source,
    planner,
    supervisor,
    encoder,
    capture,
    demand,
    publisher,
    hub,
    viewers,
    metrics,
    history: s.history,
  };
  return { camera, offline, hooks };
}

/**
 * Starts tuchuan; resolves once it listens. Throws `TypeError`/`RangeError` or `InputError` for
 * a bad source, file, port or host (the command line exits 2 for those).
 */
export async function startServer(
  options: Partial<Config> = {},
  deps: ServerDeps = {},
): Promise<RunningServer> {
  const config: Config = { ...DEFAULT_CONFIG, ...options };
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? silentLogger;
  // Loaded only for HTTPS: the certificate and key checks (PEM, X.509) are of no use otherwise.
  const tls = config.tlsCert && config.tlsKey
    ? (await import("./net/tls_files.ts")).loadTlsFiles(config.tlsCert, config.tlsKey)
    : undefined;
  const images = new ImageJobs({ clock });
  const reducer = new MemoryReducer({
    clock,
    onCollect: ({ ms, departures }) =>
      log.debug(
        `Memory given back after ${departures} viewers left: a full collection took ${
          ms.toFixed(1)
        } ms`,
      ),
  });
  const pages = new StartupPages({
    onRelease: (r, when) => {
      if (r.kind === "unavailable") log.debug(`Start-up pages kept (${when}): ${r.reason}`);
      else {
        log.debug(
          `Start-up pages given back (${when}): ${(r.kb / 1024).toFixed(1)} MB in ${r.ranges} ${
            r.ranges === 1 ? "range" : "ranges"
          }${r.refused ? `, ${r.refused} refused by the kernel` : ""}`,
        );
      }
    },
  });
  pages.loaded();
  const shared: Shared = {
    clock,
    log,
    images,
    hookTimeoutMs: config.hookTimeout * 1000,
    sendTimeoutMs: config.sendTimeout * 1000,
    deps,
    reducer,
    pages,
  };
  const built: Built[] = [];
  try {
    for (const [i, { name, settings }] of cameraSettings(config).entries()) {
      built.push(await buildCamera(name, settings, i === 0, shared));
    }
  } catch (err) {
    images.close();
    throw err;
  }
  const cameras = built.map((b) => b.camera);

  // 6. HTTP: the app over the cameras, behind a listener that survives running out of
  //    descriptors and a guard that ends slow, silent and idle connections.
  const table = SocketTable.open();
  if (!table) {
    log.warn("No /proc or libc here: header and idle timeouts and the send-queue bound are off");
  }
  table?.raiseFdLimit();
  const guard = table
    ? new ConnectionGuard({
      table,
      clock,
      log,
      headerTimeoutMs: config.headerTimeout * 1000,
      idleTimeoutMs: config.keepaliveTimeout * 1000,
      maxPending: config.maxPending,
    })
    : null;
  const stopping = new AbortController();
  const startedAt = clock.now();
  const app = createApp({
    cameras,
    clock,
    log,
    auth: { user: config.user, password: config.password, token: config.token },
    cors: config.cors,
    version: VERSION,
    startedAt,
    stopSignal: stopping.signal,
    images,
    guard,
    snapshotTimeoutMs: SNAPSHOT_TIMEOUT_MS,
  });
  let listener;
  try {
    listener = listenHttp({
      host: config.host,
      port: config.port,
      tls,
      clock,
      log,
      guard,
      onError: (err) => {
        // A viewer cut off by --send-timeout surfaces here; it is logged where it happens.
        if ((err as Error)?.name === "ViewerClosedError") {
          return new Response(null, { status: 500 });
        }
        log.error(`HTTP error: ${messageOf(err)}`);
        return new Response(JSON.stringify({ error: "Internal error" }), {
          status: 500,
          headers: { "Content-Type": "application/json" },
        });
      },
      handler: (req, info) => {
        // The guard counts the request as in progress until its response is delivered (for a
        // stream: until the viewer leaves).
        if (guard) {
          const end = guard.begin(info.remoteAddr);
          info.completed.then(end, end);
        }
        const env: ConnectionInfo = { remoteAddr: info.remoteAddr };
        return app.fetch(req, env);
      },
    });
  } catch (err) {
    images.close();
    throw err;
  }
  const addr = listener.addr;
  guard?.start(addr.port);
  // The module loader and the pipeline's construction ran once: their code need not stay mapped,
  // and starting capture touches its own (a folder's frames read, a watch or a child started).
  pages.listening();
  for (const camera of cameras) camera.capture.update();
  pages.capturing();
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let stopped: Promise<void> | null = null;
  return {
    url: `${tls ? "https" : "http"}://${host}:${addr.port}/`,
    port: addr.port,
    cameras,
    finished: listener.finished,
    stop() {
      stopped ??= (async () => {
        // In reverse: viewers get the closing boundary and the listener stops taking new
        // connections; then each camera's hub, capture (source and ffmpeg), workers and hooks.
        stopping.abort();
        const closing = listener.shutdown();
        reducer.dispose();
        for (const b of [...built].reverse()) {
          const { camera } = b;
          camera.viewers.dispose();
          camera.hub.close();
          camera.demand.close();
          await camera.capture.close();
          b.offline.stop();
          await b.hooks.close();
        }
        guard?.stop();
        images.close();
        await closing;
      })();
      return stopped;
    },
  };
}
