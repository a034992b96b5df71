/**
 * What every source is: something opened once (which learns what the input offers) that yields
 * frames on demand until its signal aborts, as often as the supervisor restarts it.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Size, SourceFrame } from "../core/frame.ts";
import type { Logger } from "../core/logger.ts";
import type { SourceKind, SourceOffer } from "../plan/encode_plan.ts";
import type { EncodePlanner } from "../plan/encode_planner.ts";
import type { BufferPool } from "../core/buffer_pool.ts";
import type { CameraControls } from "./v4l2/camera_controls.ts";

export type { SourceKind, SourceOffer } from "../plan/encode_plan.ts";

/** A frame producer. `frames()` may be called again after it ended or failed (a restart). */
export interface Source {
  /** What kind of input this is. */
  readonly kind: SourceKind;
  /** The input as the user named it (a path, URL or `testsrc`); show it through `redactUrls`. */
  readonly input: string;
  /** What the input offers, when known (at open, or learned at the last run). */
  readonly offer: SourceOffer | null;
  /** Facts for `/state`: the mode chosen and why. */
  facts(): SourceFacts;
  /** The camera's controls (V4L2 sources only). */
  readonly controls?: CameraControls;
  /**
   * Yields frames until the input ends (returns) or fails (throws `SourceError`), or `signal`
   * aborts (returns, after releasing every process and file it held).
   */
  frames(signal: AbortSignal): AsyncIterable<SourceFrame>;
  /**
   * Offered by a source that paces itself (a folder read by tuchuan): calls `onFrame` with each
   * frame from the source's own timer until `signal` aborts (resolves), the source ends
   * (resolves) or fails (rejects). The supervisor prefers it to `frames()`, whose async iterator
   * costs a promise and a wake-up per frame; everything else still iterates `frames()`.
   */
  push?(signal: AbortSignal, onFrame: (frame: SourceFrame) => void): Promise<void>;
}

/** A source failed: the message is what the user should read (ffmpeg's last stderr line). */
export class SourceError extends Error {
  /** @param message why it failed; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SourceError";
  }
}

/** What a capture reports and where it gets its pixel buffers. */
export interface CaptureHooks {
  /** A JPEG failed the structural check and was dropped. */
  readonly onCorrupt?: () => void;
  /** A child process started (pid when known, redacted command line), for the debug log. */
  readonly onSpawn?: (pid: number | null, commandLine: string) => void;
  /** Where raw frames get their pixel buffers (recycled by the encoder side). */
  readonly buffers?: BufferPool;
}

/** What a source needs from the camera it belongs to. */
export interface SourceContext {
  /** Decides the encode plan from the source's offer; the source reads its input as it says. */
  readonly planner: EncodePlanner;
  readonly clock: Clock;
  readonly log: Logger;
  readonly hooks: CaptureHooks;
  /** `--size`, or null for the source's own. */
  readonly size: Size | null;
  /** `--fps`, or null for the source's own. */
  readonly fps: number | null;
  /** JPEG quality for ffmpeg's encoder. */
  readonly quality: number;
}

/** Where a source stands, for `/state.source`. */
export interface SourceFacts {
  /** The device or file actually opened (a by-id name resolved), when it differs. */
  readonly device?: string;
  /** The mode chosen: "YUYV 640x480 at 25 fps". */
  readonly mode?: string;
  /** Why this mode. */
  readonly why?: string;
  /** Size and rate asked for (null: the source's own). */
  readonly asked?: { readonly size: string | null; readonly fps: number | null };
  /** What could not be had as asked, and what is used instead. */
  readonly notes?: readonly string[];
}
