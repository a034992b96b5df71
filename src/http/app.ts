/**
 * The HTTP API on Hono (DESIGN §3): viewer page, stream, snapshots, state, pause/resume,
 * health and metrics, with mjpg-streamer's `/?action=` aliases. Every error is JSON naming
 * what was wrong; bad input never gets a 5xx.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { Camera } from "../camera.ts";
import type { ClientRegistry } from "../client_registry.ts";
import type { Clock, EncodedFrame } from "../frame.ts";
import type { FrameHub } from "../frame_hub.ts";
import type { ImageJobs } from "../image_jobs.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { SocketBacklog } from "../socket_backlog.ts";
import { redactUrls, type Source } from "../source/source.ts";
import { type AuthConfig, challenge, isAuthorized } from "./auth.ts";
import { StreamClient } from "./client_stream.ts";
import { formatTimestamp, wantsAdvanceHeaders } from "./multipart.ts";
import {
  JPEG_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  METRICS_CONTENT_TYPE,
  NO_CACHE_HEADERS,
  PNG_CONTENT_TYPE,
  STREAM_HEADERS,
} from "./protocol.ts";
import { VIEWER_HTML } from "./viewer_html.ts";

/** Everything the routes need. */
export interface AppContext {
  hub: FrameHub;
  camera: Camera;
  registry: ClientRegistry;
  metrics: Metrics;
  source: Source;
  clock: Clock;
  log: Logger;
  auth: AuthConfig;
  cors?: string;
  /** `--history` in seconds (the reach of `?ago=`). */
  history: number;
  /** `--encoder` as resolved, for /state. */
  encoder: { kind: string; reason: string; workers: number };
  version: string;
  startedAt: number;
  /** Aborts when the server stops: streams end with the closing boundary. */
  stopSignal: AbortSignal;
  /** Off-thread imagescript jobs (PNG snapshots). */
  images: ImageJobs;
  /** Kernel send-queue readings for drain pacing; set once the port is known. */
  backlog: { current: SocketBacklog | null };
}

/** A 4xx/5xx JSON error body. */
function jsonError(
  status: number,
  error: string,
  param?: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(param ? { error, param } : { error }), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ...NO_CACHE_HEADERS, ...headers },
  });
}

/** A query parameter that failed validation. */
class BadParam extends Error {
  constructor(readonly param: string, message: string) {
    super(message);
    this.name = "BadParam";
  }
}

function numberParam(url: URL, name: string, min: number, max: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return null;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new BadParam(
      name,
      `Invalid ${name} "${raw.slice(0, 40)}": expected a number from ${min} to ${max}`,
    );
  }
  return n;
}

function flagParam(url: URL, name: string): boolean | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return null;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new BadParam(name, `Invalid ${name} "${raw.slice(0, 40)}": expected 1 or 0`);
}

const ROUTES: Record<string, string[]> = {
  "/": ["GET", "HEAD"],
  "/stream": ["GET", "HEAD"],
  "/snapshot": ["GET", "HEAD"],
  "/snapshot.jpg": ["GET", "HEAD"],
  "/snapshot.png": ["GET", "HEAD"],
  "/state": ["GET", "HEAD"],
  "/healthz": ["GET", "HEAD"],
  "/metrics": ["GET", "HEAD"],
  "/pause": ["POST"],
  "/resume": ["POST"],
};

/** Builds the Hono app over a running camera and hub. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  const bootId = Math.floor(ctx.startedAt).toString(36);
  const pngCache = new WeakMap<EncodedFrame, Promise<Uint8Array>>();

  app.onError((err) => {
    if (err instanceof BadParam) return jsonError(400, err.message, err.param);
    ctx.log.error(`Request failed: ${err.message}`);
    return jsonError(500, "Internal error");
  });
  app.notFound((c) => jsonError(404, `No route ${c.req.method} ${new URL(c.req.url).pathname}`));

  // CORS, method check and access control for every route.
  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    const allowed = ROUTES[url.pathname];
    const corsHeaders: Record<string, string> = ctx.cors
      ? { "Access-Control-Allow-Origin": ctx.cors, "Vary": "Origin" }
      : {};
    if (allowed && c.req.method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "Allow": [...allowed, "OPTIONS"].join(", "),
          ...corsHeaders,
          ...(ctx.cors
            ? {
              "Access-Control-Allow-Methods": [...allowed, "OPTIONS"].join(", "),
              "Access-Control-Allow-Headers": "Authorization",
              "Access-Control-Max-Age": "600",
            }
            : {}),
        },
      });
    }
    if (allowed && !allowed.includes(c.req.method)) {
      return jsonError(405, `Method ${c.req.method} not allowed on ${url.pathname}`, undefined, {
        "Allow": [...allowed, "OPTIONS"].join(", "),
        ...corsHeaders,
      });
    }
    if (url.pathname !== "/healthz" && !isAuthorized(ctx.auth, c.req.raw.headers, url)) {
      return jsonError(401, "Authentication required", undefined, {
        "WWW-Authenticate": challenge(ctx.auth),
        ...corsHeaders,
      });
    }
    await next();
    for (const [k, v] of Object.entries(corsHeaders)) c.res.headers.set(k, v);
  });

  const stream = (c: Context): Response => {
    const url = new URL(c.req.url);
    const fps = numberParam(url, "fps", 0.01, 120);
    const advance = flagParam(url, "advance_headers");
    if (c.req.method === "HEAD") return new Response(null, { headers: STREAM_HEADERS });
    if (ctx.registry.full) {
      ctx.metrics.clientsRejected++;
      return jsonError(503, "Too many viewers (--max-clients)", undefined, { "Retry-After": "5" });
    }
    const mode = wantsAdvanceHeaders(c.req.raw.headers, advance) ? "advance" : "normal";
    const release = ctx.camera.acquire();
    const addr = (c.env as { remoteAddr?: Deno.NetAddr } | undefined)?.remoteAddr;
    const sampler = ctx.backlog.current;
    const tracked = sampler && addr ? sampler.track() : null;
    const client = new StreamClient(ctx.hub, {
      mode,
      maxFps: fps,
      clock: ctx.clock,
      stopSignal: ctx.stopSignal,
      remote: addr?.hostname,
      backlog: sampler && addr
        ? {
          get: () => sampler.get(addr.port),
          intervalMs: sampler.intervalMs,
          setLagging: (lagging: boolean) => tracked?.setLagging(lagging),
        }
        : undefined,
      onFrame: (_client, _frame, bytes) => {
        ctx.metrics.framesSent++;
        ctx.metrics.bytesSent += bytes;
      },
      onClose: (cl, reason) => {
        ctx.registry.remove(cl);
        tracked?.release();
        release();
        ctx.log.debug(`Viewer ${cl.id} left (${reason}); ${ctx.registry.size} connected`);
      },
    });
    ctx.registry.add(client);
    ctx.metrics.clientsTotal++;
    // A viewer that disconnects cancels the body stream, which releases everything at once.
    ctx.log.debug(`Viewer ${client.id} joined (${mode}); ${ctx.registry.size} connected`);
    return new Response(client.stream, { headers: STREAM_HEADERS });
  };

  const snapshot = async (c: Context, format: "jpeg" | "png"): Promise<Response> => {
    const url = new URL(c.req.url);
    const ago = numberParam(url, "ago", 0, ctx.history);
    let frame: EncodedFrame | null;
    if (ago) {
      frame = ctx.hub.frameAgo(ago * 1000, ctx.clock.now());
      if (!frame) return jsonError(404, `No frame kept from ${ago} s ago yet`, "ago");
    } else {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 5000);
      try {
        frame = await ctx.camera.snapshot(ac.signal);
      } catch {
        return jsonError(503, "No frame available from the source", undefined, {
          "Retry-After": "1",
        });
      } finally {
        clearTimeout(timer);
      }
    }
    const etag = `"${bootId}-${frame.seq}${format === "png" ? "p" : "j"}"`;
    const headers: Record<string, string> = {
      ...NO_CACHE_HEADERS,
      "Content-Type": format === "png" ? PNG_CONTENT_TYPE : JPEG_CONTENT_TYPE,
      "ETag": etag,
      "Last-Modified": new Date(frame.capturedAt).toUTCString(),
      "Age": String(Math.max(0, Math.floor((ctx.clock.now() - frame.capturedAt) / 1000))),
      "X-Timestamp": formatTimestamp(frame.capturedAt),
    };
    const inm = c.req.header("if-none-match");
    if (inm && inm.split(/\s*,\s*/).includes(etag)) {
      return new Response(null, { status: 304, headers });
    }
    let body: Uint8Array = frame.jpeg;
    if (format === "png") {
      let png = pngCache.get(frame);
      if (!png) pngCache.set(frame, png = ctx.images.png(frame.jpeg));
      body = await png;
    }
    headers["Content-Length"] = String(body.byteLength);
    return new Response(c.req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
      headers,
    });
  };

  const state = () => {
    const now = ctx.clock.now();
    const { width, height } = ctx.camera.size;
    return {
      version: ctx.version,
      uptime: (now - ctx.startedAt) / 1000,
      source: {
        kind: ctx.source.kind,
        input: redactUrls(ctx.source.input),
        online: ctx.camera.online,
        reason: ctx.camera.reason,
        running: ctx.camera.running,
        width,
        height,
        fps: round(ctx.camera.capturedFps()),
      },
      encoder: {
        kind: ctx.encoder.kind,
        reason: ctx.encoder.reason,
        workers: ctx.encoder.workers,
        meanEncodeMs: round(ctx.metrics.meanEncodeMs),
      },
      width,
      height,
      fps: round(ctx.camera.outputFps()),
      clients: ctx.registry.size,
      viewers: ctx.registry.list().map((cl) => ({
        id: cl.id,
        fps: round(cl.fps(now)),
        maxFps: cl.maxFps,
        mode: cl.mode,
        lagging: cl.lagging,
        framesSent: cl.framesSent,
        bytesSent: cl.bytesSent,
        seconds: round((now - cl.connectedAt) / 1000),
      })),
      paused: ctx.camera.paused,
      frames: {
        captured: ctx.metrics.framesCaptured,
        published: ctx.metrics.framesPublished,
        dropped: { ...ctx.metrics.dropped },
      },
      restarts: ctx.metrics.restarts,
      memory: memory(),
    };
  };

  app.get("/", (c) => {
    const url = new URL(c.req.url);
    const action = url.searchParams.get("action");
    // mjpg-streamer's URLs, which OctoPrint, Home Assistant and many tutorials use.
    if (action === "stream") return stream(c);
    if (action === "snapshot") return snapshot(c, "jpeg");
    if (action !== null) {
      throw new BadParam(
        "action",
        `Invalid action "${action.slice(0, 40)}": expected stream or snapshot`,
      );
    }
    return c.html(VIEWER_HTML, 200, { ...NO_CACHE_HEADERS });
  });
  app.get("/stream", (c) => stream(c));
  app.get("/snapshot", (c) => snapshot(c, "png"));
  app.get("/snapshot.png", (c) => snapshot(c, "png"));
  app.get("/snapshot.jpg", (c) => snapshot(c, "jpeg"));
  app.get("/state", (c) => c.json(state(), 200, { ...NO_CACHE_HEADERS }));
  app.get("/healthz", (c) => {
    const paused = ctx.camera.paused;
    const running = ctx.camera.running;
    if (paused) return c.json({ status: "paused" }, 200, { ...NO_CACHE_HEADERS });
    if (!running) return c.json({ status: "idle" }, 200, { ...NO_CACHE_HEADERS });
    if (ctx.camera.online) return c.json({ status: "ok" }, 200, { ...NO_CACHE_HEADERS });
    return c.json({ status: "offline", reason: ctx.camera.reason }, 503, { ...NO_CACHE_HEADERS });
  });
  app.get("/metrics", () =>
    new Response(
      ctx.metrics.render({
        clients: ctx.registry.size,
        online: ctx.camera.online,
        paused: ctx.camera.paused,
        captureRunning: ctx.camera.running,
        fps: ctx.camera.outputFps(),
        uptimeSeconds: (ctx.clock.now() - ctx.startedAt) / 1000,
      }),
      { headers: { "Content-Type": METRICS_CONTENT_TYPE, ...NO_CACHE_HEADERS } },
    ));
  app.post("/pause", async (c) => {
    await ctx.camera.pause();
    return c.json({ paused: true }, 200, { ...NO_CACHE_HEADERS });
  });
  app.post("/resume", (c) => {
    ctx.camera.resume();
    return c.json({ paused: false }, 200, { ...NO_CACHE_HEADERS });
  });
  return app;
}

/** Process memory in MB, for /state. */
function memory(): { rssMB: number; heapMB: number; externalMB: number } {
  const m = Deno.memoryUsage();
  return {
    rssMB: round(m.rss / 1048576),
    heapMB: round(m.heapUsed / 1048576),
    externalMB: round(m.external / 1048576),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
