/**
 * Whether capture runs: while frames are wanted (a viewer, a snapshot, or `--always-on`) and
 * not paused. Starting capture starts the source under its supervisor; stopping it stops the
 * source, the encoder's workers and the offline card, and after an idle stop the frames in
 * the hub count as stale, so that the next viewer's first picture is a fresh one.
 *
 * @module
 */
import type { Logger } from "../core/logger.ts";
import type { Encoder } from "./encoder.ts";
import type { FrameHub } from "./frame_hub.ts";
import type { OfflineLoop } from "./offline_loop.ts";
import type { Publisher } from "./publisher.ts";
import type { Supervisor } from "./supervisor.ts";

/** Options of {@link Capture}. */
export interface CaptureOptions {
  supervisor: Supervisor;
  encoder: Encoder;
  publisher: Publisher;
  offline: OfflineLoop;
  hub: FrameHub;
  log: Logger;
  /** True while anyone (or `--always-on`) wants frames. */
  wanted: () => boolean;
  /** What the source is, for log lines. */
  label: string;
}

/** Starts and stops capture, and pauses it on request. */
export class Capture {
  readonly #o: CaptureOptions;
  #paused = false;
  #closed = false;

  /** Nothing runs until `update()`. */
  constructor(options: CaptureOptions) {
    this.#o = options;
  }

  /** True while capture runs. */
  get running(): boolean {
    return this.#o.supervisor.running;
  }

  /** True after `pause()`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Starts capture if it is wanted and not paused (idempotent). */
  update(): void {
    if (this.#paused || this.#closed || this.running || !this.#o.wanted()) return;
    const { publisher, supervisor, log, label } = this.#o;
    log.info(`Capture starting: ${label}`);
    publisher.open();
    supervisor.start();
  }

  /** Nobody wants frames any more: stops capture; what the hub holds is stale from now on. */
  async idle(): Promise<void> {
    if (this.#o.wanted()) return;
    this.#o.log.info("No viewers: stopping capture");
    // Stale from the moment the stop begins (the publisher takes no frame from then on), not
    // once it is over: winding ffmpeg down can take a while on a busy machine, and a viewer that
    // comes meanwhile must wait for a fresh frame, not get the last one from before (seen in
    // the test suite: a frame 30 ms older than the viewer, ffmpeg gone, the stop not over yet).
    const stopped = this.#stop();
    this.#o.hub.markStale();
    await stopped;
  }

  /** Pauses: capture stops, viewers keep the last frame. Idempotent. */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    this.#o.log.info("Paused");
    await this.#stop();
  }

  /** Resumes after `pause()`. Idempotent. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#o.log.info("Resumed");
    this.update();
  }

  /** Stops capture for good (server shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#stop();
  }

  async #stop(): Promise<void> {
    const { supervisor, encoder, publisher, offline, log } = this.#o;
    offline.stop();
    if (!supervisor.running) return;
    publisher.close();
    await supervisor.stop();
    offline.stop();
    encoder.stop();
    log.info("Capture stopped");
  }
}
