/**
 * `GET /snapshot` (PNG, as in the seed), `/snapshot.png`, `/snapshot.jpg`: the newest frame,
 * `?ago=S` one from S seconds back (out of the `--history` ring), `?max_delay=MS` one at most MS
 * old (waiting for the next one when the newest is older; 0: only one captured after the
 * request). With `ETag`/`304`, `Last-Modified`, `Age` and `X-Timestamp`.
 *
 * A PNG of a passed-through JPEG with an EXIF orientation is turned as the tag says: a PNG has no
 * such tag, and a decoded snapshot must show what the stream shows.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { EncodedFrame } from "../core/frame.ts";
import { stepsForExif } from "../core/orientation.ts";
import type { ImageJobs } from "../image/image_jobs.ts";
import { readExifOrientation } from "../jpeg/exif_orientation.ts";
import { formatTimestamp } from "../multipart/multipart_writer.ts";
import type { Camera } from "../pipeline/camera.ts";
import { SnapshotUnavailable, takeSnapshot } from "../pipeline/snapshot.ts";
import { jsonError } from "./http_errors.ts";
import { numberParam } from "./params.ts";
import { JPEG_CONTENT_TYPE, NO_CACHE_HEADERS, PNG_CONTENT_TYPE } from "./protocol.ts";

/** What the snapshot route needs besides the camera. */
export interface SnapshotDeps {
  clock: Clock;
  images: ImageJobs;
  /** Distinguishes ETags across restarts. */
  bootId: string;
  /** The longest a request waits for a frame. */
  timeoutMs: number;
}

const pngCache = new WeakMap<EncodedFrame, Promise<Uint8Array>>();

/** The longest `?max_delay=` accepted, in milliseconds. */
const MAX_DELAY_LIMIT_MS = 3_600_000;

/** Answers a snapshot request for `camera` in `format`. */
export async function snapshotResponse(
  req: Request,
  url: URL,
  camera: Camera,
  format: "jpeg" | "png",
  deps: SnapshotDeps,
): Promise<Response> {
  const ago = numberParam(url, "ago", {
    min: 0,
    max: camera.history,
    expected: `a number of seconds from 0 to ${camera.history} (--history)`,
  });
  const maxDelayMs = numberParam(url, "max_delay", {
    min: 0,
    max: MAX_DELAY_LIMIT_MS,
    integer: true,
    expected: `a whole number of milliseconds from 0 to ${MAX_DELAY_LIMIT_MS}`,
  });
  const { clock } = deps;
  let frame: EncodedFrame;
  if (ago) {
    const found = camera.hub.frameAgo(ago * 1000, clock.now());
    if (!found) return jsonError(404, `No frame kept from ${ago} s ago yet`, "ago");
    frame = found;
  } else {
    try {
      frame = await takeSnapshot(
        {
          hub: camera.hub,
          demand: camera.demand,
          capture: camera.capture,
          clock,
          reason: () => camera.supervisor.reason,
        },
        { maxDelayMs, timeoutMs: deps.timeoutMs },
      );
    } catch (err) {
      if (!(err instanceof SnapshotUnavailable)) throw err;
      return jsonError(503, err.message, maxDelayMs !== null ? "max_delay" : undefined, {
        "Retry-After": "1",
      });
    }
  }
  const etag = `"${deps.bootId}-${camera.name}-${frame.seq}${format === "png" ? "p" : "j"}"`;
  const headers: Record<string, string> = {
    ...NO_CACHE_HEADERS,
    "Content-Type": format === "png" ? PNG_CONTENT_TYPE : JPEG_CONTENT_TYPE,
    "ETag": etag,
    "Last-Modified": new Date(frame.capturedAt).toUTCString(),
    "Age": String(Math.max(0, Math.floor((clock.now() - frame.capturedAt) / 1000))),
    "X-Timestamp": formatTimestamp(frame.capturedAt),
  };
  const inm = req.headers.get("if-none-match");
  if (inm && inm.split(/\s*,\s*/).includes(etag)) {
    return new Response(null, { status: 304, headers });
  }
  let body: Uint8Array = frame.jpeg;
  if (format === "png") {
    let png = pngCache.get(frame);
    if (!png) {
      const orient = stepsForExif(readExifOrientation(frame.jpeg));
      pngCache.set(frame, png = deps.images.png(frame.jpeg, orient));
      // A failed conversion is not remembered: the next request tries again.
      png.catch(() => pngCache.delete(frame));
    }
    body = await png;
  }
  headers["Content-Length"] = String(body.byteLength);
  return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, { headers });
}
