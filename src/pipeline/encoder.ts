/**
 * The encode stage: turns source frames into the JPEGs the hub serves, as the encode plan says.
 * On the `imagescript` path frames go to a pool of workers (overlay, orientation, JPEG); on the
 * other paths they are JPEG already and only get their EXIF orientation tag, if any.
 *
 * The workers start with the first frame that needs them and stop when capture stops: an idle
 * camera holds no worker heap.
 *
 * @module
 */
import type { BufferPool } from "../core/buffer_pool.ts";
import type { SourceFrame } from "../core/frame.ts";
import type { Logger } from "../core/logger.ts";
import { EncoderPool } from "../image/encoder_pool.ts";
import { type OverlayOptions, overlayText } from "../image/overlay.ts";
import { withExifOrientation } from "../jpeg/exif_orientation.ts";
import type { CameraMetrics } from "./camera_metrics.ts";
import type { EncodePlanner } from "../plan/encode_planner.ts";

/** Where an encoded frame goes. */
export type PublishFrame = (
  jpeg: Uint8Array,
  width: number,
  height: number,
  capturedAt: number,
) => void;

/** Options of {@link Encoder}. */
export interface EncoderOptions {
  /** The plan in force (it can change when a camera is replugged). */
  planner: EncodePlanner;
  /** JPEG quality 1..100 for the workers. */
  quality: number;
  overlay: OverlayOptions | null;
  /** Worker count for the imagescript path. */
  workers: number;
  /** Raw-frame buffers, recycled between the source and the workers. */
  buffers: BufferPool;
  metrics: CameraMetrics;
  log: Logger;
  /** The delivered frame rate, drawn by the `fps` overlay. */
  outputFps: () => number;
  publish: PublishFrame;
}

/** Source frames in, served JPEGs out. */
export class Encoder {
  readonly #o: EncoderOptions;
  #pool: EncoderPool | null = null;
  #warnedRaw = false;

  /** Nothing runs until `start()`. */
  constructor(options: EncoderOptions) {
    this.#o = options;
  }

  /** Workers used on the imagescript path (`--workers`). */
  get workers(): number {
    return this.#o.workers;
  }

  /** True while the workers run. */
  get running(): boolean {
    return this.#pool !== null;
  }

  #startPool(): EncoderPool {
    const { metrics, log, buffers, publish } = this.#o;
    this.#pool = new EncoderPool({
      size: this.#o.workers,
      onResult: (result, capturedAt) => {
        metrics.framesEncoded++;
        metrics.observeEncode(result.ms);
        publish(result.jpeg, result.width, result.height, capturedAt);
      },
      recycle: (pixels) => buffers.give(pixels),
      onDrop: (reason, detail) => {
        metrics.drop(reason);
        if (reason === "error") log.warn(`Encoding failed: ${detail}`);
      },
    });
    return this.#pool;
  }

  /** Stops the workers (capture stopped). */
  stop(): void {
    this.#pool?.close();
    this.#pool = null;
  }

  /** Encodes (or passes on) one frame. */
  submit(frame: SourceFrame): void {
    const { metrics, publish } = this.#o;
    const plan = this.#o.planner.current;
    if (!plan) return;
    if (plan.path === "imagescript") {
      const pool = this.#pool ?? this.#startPool();
      const overlay = this.#o.overlay;
      const lines = overlay
        ? overlayText({
          ...(overlay.fps ? { fps: this.#o.outputFps() } : {}),
          ...(overlay.time ? { time: new Date(frame.capturedAt) } : {}),
          ...(overlay.text ? { text: overlay.text } : {}),
        })
        : [];
      const orient = plan.orientation.workers ?? undefined;
      if (!pool.submit({ frame, quality: this.#o.quality, lines, orient })) {
        // Dropped while every worker was busy: its buffer can carry the next frame.
        if (frame.kind === "rgba") this.#o.buffers.give(frame.data);
      }
      return;
    }
    if (frame.kind !== "jpeg") {
      // Raw pixels off the worker path cannot happen by construction; count, say so once.
      metrics.drop("error");
      if (!this.#warnedRaw) this.#o.log.error(`Raw frame on the ${plan.path} path: dropped`);
      this.#warnedRaw = true;
      return;
    }
    const exif = plan.orientation.exif;
    if (exif === 1) return publish(frame.data, frame.width, frame.height, frame.capturedAt);
    // EXIF 5..8 turn the picture a quarter: viewers see it with width and height swapped.
    const quarter = exif >= 5;
    publish(
      withExifOrientation(frame.data, exif),
      quarter ? frame.height : frame.width,
      quarter ? frame.width : frame.height,
      frame.capturedAt,
    );
  }
}
