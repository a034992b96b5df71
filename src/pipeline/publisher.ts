/**
 * The last step before the hub: counts and measures what is served, skips repeats for
 * `--drop-same-frames`, and refuses frames that arrive after capture stopped (a worker that
 * finishes late must not put an old picture in front of the next viewer).
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { EncodedFrame, Size } from "../core/frame.ts";
import { FpsMeter } from "../core/fps_meter.ts";
import { noteFrameBytes } from "../core/gc_pacer.ts";
import type { CameraMetrics } from "./camera_metrics.ts";
import type { FrameHub } from "./frame_hub.ts";

/** Options of {@link Publisher}. */
export interface PublisherOptions {
  hub: FrameHub;
  clock: Clock;
  metrics: CameraMetrics;
  /** Skip byte-identical frames, still sending one a second. */
  dropSameFrames: boolean;
}

/** Camera frames into the hub. */
export class Publisher {
  readonly #o: PublisherOptions;
  readonly #meter = new FpsMeter();
  #last: EncodedFrame | null = null;
  #size: Size | null = null;
  #open = false;

  /** Closed until `open()`. */
  constructor(options: PublisherOptions) {
    this.#o = options;
  }

  /** Starts taking frames (capture started). */
  open(): void {
    this.#open = true;
  }

  /** Refuses frames from now on (capture stopped). */
  close(): void {
    this.#open = false;
  }

  /** The size of the last camera frame served, or null before the first. */
  get size(): Size | null {
    return this.#size;
  }

  /** Camera frames served per second. */
  fps(): number {
    return this.#meter.fps(this.#o.clock.now());
  }

  /** Publishes a camera frame, unless closed or a repeat to skip. */
  publish(jpeg: Uint8Array, width: number, height: number, capturedAt: number): void {
    if (!this.#open) return;
    const { hub, metrics, clock, dropSameFrames } = this.#o;
    const last = this.#last;
    if (
      dropSameFrames && last && !last.offline && sameBytes(last.jpeg, jpeg) &&
      capturedAt - last.capturedAt < 1000
    ) {
      // Identical picture: skip it, but still send one a second so viewers see the stream is alive.
      metrics.drop("same");
      return;
    }
    this.#size = { width, height };
    // The frame's bytes, and about as many again for its part in the stream.
    noteFrameBytes(2 * jpeg.byteLength);
    this.#last = hub.publish({ jpeg, width, height, capturedAt });
    metrics.framesPublished++;
    this.#meter.tick(clock.now());
  }

  /** Publishes a NO SIGNAL card (or `--offline-image`); taken even while closed to capture. */
  publishOffline(jpeg: Uint8Array, width: number, height: number): void {
    this.#last = this.#o.hub.publish({
      jpeg,
      width,
      height,
      capturedAt: this.#o.clock.now(),
      offline: true,
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
