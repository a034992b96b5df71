/**
 * `GET /stream`: the multipart stream of one camera. `?fps=N` caps this viewer;
 * `?advance_headers=1|0` overrides the layout chosen for it (advance_headers.ts).
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Camera } from "../pipeline/camera.ts";
import { ViewerStream } from "../viewers/viewer_stream.ts";
import { partModeFor } from "./advance_headers.ts";
import { jsonError } from "./http_errors.ts";
import { flagParam, numberParam } from "./params.ts";
import { STREAM_HEADERS } from "./protocol.ts";

/** What the stream route needs besides the camera. */
export interface StreamDeps {
  clock: Clock;
  log: Logger;
  /** Aborts when the server stops: streams end with the closing boundary. */
  stopSignal: AbortSignal;
  /** A reader of the kernel's send queue for a viewer's connection, where it can be read. */
  sendQueueFor?: (remote: Deno.NetAddr) => () => number | null;
}

/** The connection a request came on, as the listener hands it to the app. */
export interface ConnectionInfo {
  remoteAddr?: Deno.NetAddr;
}

/** Answers a `/stream` request for `camera`. */
export function streamResponse(
  req: Request,
  url: URL,
  camera: Camera,
  conn: ConnectionInfo,
  deps: StreamDeps,
): Response {
  const maxFps = numberParam(url, "fps", {
    min: 0,
    minExclusive: true,
    max: 120,
    expected: "a number greater than 0 and at most 120",
  });
  const mode = partModeFor(req.headers, flagParam(url, "advance_headers"));
  if (req.method === "HEAD") return new Response(null, { headers: STREAM_HEADERS });
  const { viewers, metrics, hub, demand } = camera;
  if (viewers.full) {
    metrics.clientsRejected++;
    return jsonError(503, "Too many viewers (--max-clients)", undefined, { "Retry-After": "5" });
  }
  const release = demand.acquire();
  const viewer = new ViewerStream(hub, {
    mode,
    maxFps,
    clock: deps.clock,
    stopSignal: deps.stopSignal,
    remote: conn.remoteAddr?.hostname,
    sendQueue: conn.remoteAddr ? deps.sendQueueFor?.(conn.remoteAddr) : undefined,
    onFrame: (_viewer, _frame, bytes) => {
      metrics.framesSent++;
      metrics.bytesSent += bytes;
    },
    onWritten: (_viewer, frame, now) => metrics.observeSendDelay(now - frame.capturedAt),
    onClose: (v, reason) => {
      viewers.remove(v);
      release();
      deps.log.debug(`Viewer ${v.id} left (${reason}); ${viewers.size} connected`);
    },
  });
  viewers.add(viewer);
  metrics.clientsTotal++;
  deps.log.debug(`Viewer ${viewer.id} joined (${mode}); ${viewers.size} connected`);
  // A viewer that disconnects cancels the body stream, which releases everything at once.
  return new Response(viewer.stream, { headers: STREAM_HEADERS });
}
