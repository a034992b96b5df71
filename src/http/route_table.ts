/**
 * Which paths exist and which methods they take, for every camera: the one table the method
 * check, `OPTIONS`, `Allow` and the router agree on. Paths are matched decoded (`/%73tream` is
 * `/stream`), as Hono's router matches them.
 *
 * @module
 */

/** A route's name: the last path segment ("" for the viewer page). */
export type RouteName =
  | ""
  | "stream"
  | "snapshot"
  | "snapshot.jpg"
  | "snapshot.png"
  | "state"
  | "controls"
  | "pause"
  | "resume"
  | "healthz"
  | "metrics";

/** Methods of each route. */
export const ROUTE_METHODS: Readonly<Record<RouteName, readonly string[]>> = Object.freeze({
  "": ["GET", "HEAD"],
  stream: ["GET", "HEAD"],
  snapshot: ["GET", "HEAD"],
  "snapshot.jpg": ["GET", "HEAD"],
  "snapshot.png": ["GET", "HEAD"],
  state: ["GET", "HEAD"],
  controls: ["GET", "HEAD", "POST"],
  pause: ["POST"],
  resume: ["POST"],
  healthz: ["GET", "HEAD"],
  metrics: ["GET", "HEAD"],
});

/** Routes that change state: refused from other sites (CSRF), and need auth like the rest. */
export const STATE_CHANGING: ReadonlySet<string> = new Set(["pause", "resume", "controls:POST"]);

/** Routes of the whole server, not of one camera. */
const SERVER_ROUTES: ReadonlySet<RouteName> = new Set(["healthz", "metrics"]);

/** Where a path goes. */
export type Resolved =
  | { readonly kind: "route"; readonly camera: string | null; readonly route: RouteName }
  /** `/NAME` without its slash: the viewer's relative URLs need it, so redirect. */
  | { readonly kind: "slash"; readonly location: string }
  | { readonly kind: "none" };

/** Decodes a path the way the router does; null when it is not valid percent-encoding. */
export function decodePath(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
}

/**
 * Resolves `pathname` (decoded) among `cameras`: `/route` is the first camera's (or the
 * server's), `/NAME/route` a named camera's.
 */
export function resolvePath(pathname: string, cameras: readonly string[]): Resolved {
  const parts = pathname.split("/").slice(1);
  const isRoute = (s: string): s is RouteName => Object.hasOwn(ROUTE_METHODS, s);
  if (parts.length === 1) {
    const [name] = parts;
    if (isRoute(name)) return { kind: "route", camera: null, route: name };
    if (cameras.includes(name)) return { kind: "slash", location: `${pathname}/` };
    return { kind: "none" };
  }
  if (parts.length === 2 && cameras.includes(parts[0]) && isRoute(parts[1])) {
    if (SERVER_ROUTES.has(parts[1])) return { kind: "none" };
    return { kind: "route", camera: parts[0], route: parts[1] };
  }
  return { kind: "none" };
}
