/**
 * The HTTP API on Hono (DESIGN §3): for each camera the viewer page, stream, snapshots, state,
 * controls and pause/resume, under `/NAME/` and, for the first camera, at the top level too;
 * the server's `/healthz` and `/metrics`; mjpg-streamer's `/?action=` aliases; and `/` listing
 * the cameras when there are several. One middleware checks path, method, auth and cross-site
 * posts against the route table; every error is JSON naming what was wrong.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { ImageJobs } from "../image/image_jobs.ts";
import type { ConnectionGuard } from "../net/connection_guard.ts";
import type { Camera } from "../pipeline/camera.ts";
import type { AuthConfig } from "./auth.ts";
import { cameraState, memoryState } from "./camera_state.ts";
import { commandResponse, controlsResponse } from "./controls_route.ts";
import { healthBody } from "./health.ts";
import { BadParam, jsonError } from "./http_errors.ts";
import { indexHtml } from "./index_html.ts";
import { renderMetrics } from "./metrics_text.ts";
import { JSON_CONTENT_TYPE, METRICS_CONTENT_TYPE, NO_CACHE_HEADERS } from "./protocol.ts";
import { type AppEnv, routeGuard } from "./middleware.ts";
import { decodePath, type RouteName } from "./route_table.ts";
import { snapshotResponse } from "./snapshot_route.ts";
import { type ConnectionInfo, streamResponse } from "./stream_route.ts";
import { VIEWER_HTML } from "./viewer_html.ts";

/** Everything the routes need. */
export interface AppContext {
  /** The cameras; the first also answers at the top level. */
  cameras: readonly Camera[];
  clock: Clock;
  log: Logger;
  auth: AuthConfig;
  cors?: string;
  version: string;
  startedAt: number;
  /** Aborts when the server stops: streams end with the closing boundary. */
  stopSignal: AbortSignal;
  /** Off-thread imagescript jobs (PNG snapshots). */
  images: ImageJobs;
  /** Ends slow and idle connections; null where unavailable (for /state and /metrics). */
  guard: ConnectionGuard | null;
  /** The longest a snapshot request waits for a frame. */
  snapshotTimeoutMs: number;
}

type Env = AppEnv;

function json(_c: Context, body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": JSON_CONTENT_TYPE, ...NO_CACHE_HEADERS },
  });
}

/** Builds the Hono app over the cameras. */
export function createApp(ctx: AppContext): Hono<Env> {
  const app = new Hono<Env>();
  const bootId = Math.floor(ctx.startedAt).toString(36);
  const names = ctx.cameras.map((c) => c.name);
  const byName = new Map(ctx.cameras.map((c) => [c.name, c]));
  const several = ctx.cameras.length > 1;
  const corsHeaders: Record<string, string> = ctx.cors
    ? { "Access-Control-Allow-Origin": ctx.cors, "Vary": "Origin" }
    : {};

  app.onError((err) => {
    if (err instanceof BadParam) return jsonError(400, err.message, err.param);
    ctx.log.error(`Request failed: ${err.stack ?? err.message}`);
    return jsonError(500, "Internal error");
  });
  app.notFound((c) => jsonError(404, `No route ${c.req.method} ${new URL(c.req.url).pathname}`));

  app.use("*", routeGuard({ ...ctx, names, byName, corsHeaders }));

  const conn = (c: Context<Env>): ConnectionInfo => c.env ?? {};
  const stream = (c: Context<Env>) =>
    streamResponse(c.req.raw, new URL(c.req.url), c.get("camera"), conn(c), {
      clock: ctx.clock,
      log: ctx.log,
      stopSignal: ctx.stopSignal,
      sendQueueFor: ctx.guard ? (remote) => ctx.guard!.sendQueue(remote) : undefined,
    });
  const snapshot = (c: Context<Env>, format: "jpeg" | "png") =>
    snapshotResponse(c.req.raw, new URL(c.req.url), c.get("camera"), format, {
      clock: ctx.clock,
      images: ctx.images,
      bootId,
      timeoutMs: ctx.snapshotTimeoutMs,
    });
  const serverState = (camera: Camera) => {
    const now = ctx.clock.now();
    return {
      version: ctx.version,
      uptime: (now - ctx.startedAt) / 1000,
      ...cameraState(camera, now),
      cameras: ctx.cameras.map((cam) => cameraState(cam, now)),
      connections: ctx.guard
        ? { tracked: ctx.guard.connections, closed: { ...ctx.guard.counts } }
        : null,
      memory: memoryState(),
    };
  };

  const handlers: Record<RouteName, (c: Context<Env>) => Response | Promise<Response>> = {
    "": (c) => {
      const url = new URL(c.req.url);
      const action = url.searchParams.get("action");
      // mjpg-streamer's URLs, which OctoPrint, Home Assistant and many tutorials use.
      if (action === "stream") return stream(c);
      if (action === "snapshot") return snapshot(c, "jpeg");
      if (action === "command") return commandResponse(url, c.get("camera"));
      if (action !== null) {
        throw new BadParam(
          "action",
          `Invalid action "${action.slice(0, 40)}": expected stream, snapshot or command`,
        );
      }
      const top = decodePath(url.pathname) === "/";
      const html = several && top ? indexHtml(names) : VIEWER_HTML;
      return new Response(c.req.method === "HEAD" ? null : html, {
        headers: { "Content-Type": "text/html; charset=utf-8", ...NO_CACHE_HEADERS },
      });
    },
    stream,
    snapshot: (c) => snapshot(c, "png"),
    "snapshot.png": (c) => snapshot(c, "png"),
    "snapshot.jpg": (c) => snapshot(c, "jpeg"),
    state: (c) => json(c, serverState(c.get("camera"))),
    controls: (c) => controlsResponse(c.req.raw, c.get("camera"), ctx.clock),
    pause: async (c) => {
      await c.get("camera").capture.pause();
      return json(c, { paused: true });
    },
    resume: (c) => {
      c.get("camera").capture.resume();
      return json(c, { paused: false });
    },
    healthz: (c) => {
      const { status, body } = healthBody(ctx.cameras);
      return json(c, body, status);
    },
    metrics: () =>
      new Response(
        renderMetrics(ctx.cameras, {
          uptimeSeconds: (ctx.clock.now() - ctx.startedAt) / 1000,
          guard: ctx.guard?.counts ?? null,
        }),
        { headers: { "Content-Type": METRICS_CONTENT_TYPE, ...NO_CACHE_HEADERS } },
      ),
  };
  // The middleware has resolved the route (decoded, per camera); one catch-all dispatches it.
  app.all("*", (c) => handlers[c.get("route")](c));
  return app;
}
