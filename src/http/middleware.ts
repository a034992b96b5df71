/**
 * The one middleware in front of every route: resolves the path (decoded, per camera) against
 * the route table, answers `OPTIONS` and wrong methods from it, checks auth (all but
 * `/healthz`), refuses cross-site requests that change state, and adds the CORS headers.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { Camera } from "../pipeline/camera.ts";
import { type AuthConfig, challenge, isAuthorized } from "./auth.ts";
import { crossSiteRefusal } from "./cross_site.ts";
import { jsonError } from "./http_errors.ts";
import {
  decodePath,
  resolvePath,
  ROUTE_METHODS,
  type RouteName,
  STATE_CHANGING,
} from "./route_table.ts";
import type { ConnectionInfo } from "./stream_route.ts";

/** What the middleware hands to the routes. */
export type AppEnv = { Bindings: ConnectionInfo; Variables: { camera: Camera; route: RouteName } };

/** What the middleware checks against. */
export interface GuardContext {
  cameras: readonly Camera[];
  names: readonly string[];
  byName: ReadonlyMap<string, Camera>;
  auth: AuthConfig;
  cors?: string;
  corsHeaders: Record<string, string>;
}

/** The middleware. */
export function routeGuard(ctx: GuardContext): MiddlewareHandler<AppEnv> {
  const { corsHeaders, names, byName } = ctx;
  return async (c, next) => {
    const url = new URL(c.req.url);
    const path = decodePath(url.pathname);
    const where = path === null ? { kind: "none" as const } : resolvePath(path, names);
    if (where.kind === "slash") {
      return new Response(null, {
        status: 308,
        headers: { Location: `${where.location}${url.search}` },
      });
    }
    if (where.kind === "none") return jsonError(404, `No route ${c.req.method} ${url.pathname}`);
    const allowed = [...ROUTE_METHODS[where.route], "OPTIONS"];
    const method = c.req.method;
    if (method === "OPTIONS") {
      return new Response(null, {
        status: 204,
        headers: {
          "Allow": allowed.join(", "),
          ...corsHeaders,
          ...(ctx.cors
            ? {
              "Access-Control-Allow-Methods": allowed.join(", "),
              "Access-Control-Allow-Headers": "Authorization, Content-Type",
              "Access-Control-Max-Age": "600",
            }
            : {}),
        },
      });
    }
    if (!allowed.includes(method)) {
      return jsonError(405, `Method ${method} not allowed on ${url.pathname}`, undefined, {
        "Allow": allowed.join(", "),
        ...corsHeaders,
      });
    }
    if (where.route !== "healthz" && !isAuthorized(ctx.auth, c.req.raw.headers, url)) {
      return jsonError(401, "Authentication required", undefined, {
        "WWW-Authenticate": challenge(ctx.auth),
        ...corsHeaders,
      });
    }
    const changes = STATE_CHANGING.has(where.route) ||
      STATE_CHANGING.has(`${where.route}:${method}`) ||
      (where.route === "" && url.searchParams.get("action") === "command");
    if (changes) {
      const refusal = crossSiteRefusal(c.req.raw, url, ctx.cors);
      if (refusal) return jsonError(403, refusal, undefined, corsHeaders);
    }
    c.set("camera", where.camera === null ? ctx.cameras[0] : byName.get(where.camera)!);
    c.set("route", where.route);
    await next();
    for (const [k, v] of Object.entries(corsHeaders)) c.res.headers.set(k, v);
  };
}
