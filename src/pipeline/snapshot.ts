/**
 * Still pictures for `/snapshot…`: the newest frame while capture runs, one captured for the
 * purpose while idle (capture starts, then stops again after the idle timeout), and with
 * `max_delay` only a frame at most that old, waiting for the next one when the newest is older.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { EncodedFrame } from "../core/frame.ts";
import type { Capture } from "./capture.ts";
import type { Demand } from "./demand.ts";
import type { FrameHub } from "./frame_hub.ts";

/** No frame could be had in time: the source is starting, down or paused. */
export class SnapshotUnavailable extends Error {
  /** @param message why, for the 503 body; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SnapshotUnavailable";
  }
}

/** What a snapshot needs of the camera. */
export interface SnapshotDeps {
  hub: FrameHub;
  demand: Demand;
  capture: Capture;
  clock: Clock;
  /** Why the source is down, when it is, for the 503 body. */
  reason: () => string;
}

/** What a snapshot request asks for. */
export interface SnapshotRequest {
  /** Only a frame captured at most this many milliseconds before the request; null for any. */
  maxDelayMs: number | null;
  /** How long to wait for a frame. */
  timeoutMs: number;
}

/**
 * A frame for a snapshot. Throws {@link SnapshotUnavailable} when none comes within the
 * timeout (or the camera is paused with nothing to show, or `signal` aborts).
 */
export async function takeSnapshot(
  deps: SnapshotDeps,
  req: SnapshotRequest,
  signal?: AbortSignal,
): Promise<EncodedFrame> {
  const { hub, capture, clock } = deps;
  const asked = clock.now();
  const latest = hub.latest;
  const fresh = latest !== null && latest.seq > hub.staleThrough;
  if (req.maxDelayMs === null) {
    if (latest && (capture.paused || (capture.running && fresh))) return latest;
  } else if (
    latest && fresh && !latest.offline && asked - latest.capturedAt <= req.maxDelayMs &&
    (capture.running || capture.paused)
  ) {
    return latest;
  }
  if (capture.paused) {
    throw new SnapshotUnavailable(
      latest ? "Paused, and the last frame is older than max_delay" : "Paused before any frame",
    );
  }
  // Hold the camera while waiting, so that an idle server captures (and later stops again).
  const release = deps.demand.acquire();
  const wait = new AbortController();
  const onAbort = () => wait.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  clock.sleep(req.timeoutMs, wait.signal).then(() => wait.abort(), () => {});
  try {
    let after = Math.max(hub.staleThrough, req.maxDelayMs === null ? 0 : latest?.seq ?? 0);
    for (;;) {
      const frame = await hub.next(after, wait.signal);
      if (req.maxDelayMs === null) return frame;
      // A max_delay request wants a camera picture taken late enough, not the NO SIGNAL card
      // (nor a frame that was already in an encode worker when the request came).
      if (!frame.offline && frame.capturedAt >= asked - req.maxDelayMs) return frame;
      after = frame.seq;
    }
  } catch (cause) {
    const why = deps.reason();
    throw new SnapshotUnavailable(
      why
        ? `No frame within ${req.timeoutMs / 1000} s: the source is offline (${why})`
        : `No frame within ${req.timeoutMs / 1000} s from the source`,
      { cause },
    );
  } finally {
    wait.abort();
    signal?.removeEventListener("abort", onAbort);
    release();
  }
}
