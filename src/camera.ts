/**
 * The capture side of the server: source → (overlay + encode) → hub, run only while someone
 * watches (or `--always-on`), paused on request, and showing a "NO SIGNAL" frame while the
 * source is down.
 *
 * @module
 */
import type { BufferPool } from "./buffer_pool.ts";
import type { OverlayOptions } from "./config.ts";
import type { Clock, EncodedFrame, SourceFrame } from "./frame.ts";
import { type FrameHub, HubClosedError } from "./frame_hub.ts";
import { EncoderPool } from "./encoder_pool.ts";
import { FpsMeter } from "./fps_meter.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { ImageJobs } from "./image_jobs.ts";
import { overlayText } from "./overlay.ts";
import { redactUrls, type Source } from "./source/source.ts";
import { defaultTiming, Supervisor, type SupervisorTiming } from "./supervisor.ts";

/** How the camera runs. */
export interface CameraOptions {
  source: Source;
  hub: FrameHub;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  width: number;
  height: number;
  fps: number;
  quality: number;
  overlay: OverlayOptions | null;
  /** Encode through imagescript workers (overlay, or `--encoder imagescript`). */
  encodeWithImagescript: boolean;
  workers: number;
  /** Seconds without viewers before capture stops. */
  idleTimeout: number;
  alwaysOn: boolean;
  dropSameFrames: boolean;
  /** A JPEG to show while offline instead of the generated frame (`--offline-image`). */
  offlineImage?: Uint8Array | null;
  /** Raw-frame buffers to recycle (shared with the source). */
  buffers?: BufferPool;
  /** Renders the offline card off the event loop. */
  images: ImageJobs;
  /** Overrides the supervisor timing (tests). */
  timing?: Partial<SupervisorTiming>;
}

/** Source, encoder and hub wired together, with demand-driven start and stop. */
export class Camera {
  readonly #o: CameraOptions;
  readonly #supervisor: Supervisor;
  readonly #capturedMeter = new FpsMeter();
  readonly #outputMeter = new FpsMeter();
  #pool: EncoderPool | null = null;
  #demand = 0;
  #paused = false;
  #idle: AbortController | null = null;
  #offline: AbortController | null = null;
  #lastPublished: EncodedFrame | null = null;
  #lastSize: { width: number; height: number };
  #closed = false;

  /** Wires the camera; nothing runs until `acquire()` (or `start()` with `--always-on`). */
  constructor(options: CameraOptions) {
    this.#o = options;
    this.#lastSize = { width: options.width, height: options.height };
    const timing = { ...defaultTiming(options.fps), ...options.timing };
    this.#supervisor = new Supervisor(options.source, {
      onFrame: (frame) => this.#onFrame(frame),
      onOnline: () => {
        this.#stopOffline();
        options.log.info(
          `Source online: ${options.source.kind} ${redactUrls(options.source.input)}`,
        );
      },
      onOffline: (reason) => {
        options.log.warn(`Source offline: ${reason}`);
        this.#startOffline(reason);
      },
      onRestart: (attempt, delay) => {
        options.metrics.restarts++;
        options.log.info(`Restarting the source in ${delay} ms (restart ${attempt})`);
      },
    }, { clock: options.clock, timing });
  }

  /** True while the source delivers frames. */
  get online(): boolean {
    return this.#supervisor.online;
  }

  /** Why the source is offline ("" while online or idle). */
  get reason(): string {
    return this.#supervisor.running ? this.#supervisor.reason : "";
  }

  /** True while capture runs. */
  get running(): boolean {
    return this.#supervisor.running;
  }

  /** True after `pause()`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Viewers and snapshot requests currently wanting frames. */
  get demand(): number {
    return this.#demand;
  }

  /** Frames per second from the source. */
  capturedFps(): number {
    return this.#capturedMeter.fps(this.#o.clock.now());
  }

  /** Frames per second published to viewers. */
  outputFps(): number {
    return this.#outputMeter.fps(this.#o.clock.now());
  }

  /** Size of the frames being served. */
  get size(): { width: number; height: number } {
    return this.#lastSize;
  }

  /** Starts capture now when `--always-on`. */
  start(): void {
    if (this.#o.alwaysOn) this.#startCapture();
  }

  /** Registers a consumer; call the returned function when it is done (idempotent). */
  acquire(): () => void {
    this.#demand++;
    this.#idle?.abort();
    this.#idle = null;
    this.#startCapture();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#demand--;
      if (this.#demand === 0) this.#scheduleIdle();
    };
  }

  /** Pauses: capture stops, viewers keep the last frame. Idempotent. */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    this.#o.log.info("Paused");
    await this.#stopCapture();
  }

  /** Resumes after `pause()`. Idempotent. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#o.log.info("Resumed");
    if (this.#demand > 0 || this.#o.alwaysOn) this.#startCapture();
  }

  /**
   * A current frame for a snapshot: the newest one while capture runs (or paused), else one
   * captured for the purpose (capture starts, then stops again after the idle timeout).
   */
  async snapshot(signal: AbortSignal): Promise<EncodedFrame> {
    const latest = this.#o.hub.latest;
    if (latest && (this.#supervisor.running || this.#paused)) return latest;
    if (this.#paused) throw new HubClosedError();
    const release = this.acquire();
    try {
      return await this.#o.hub.next(latest?.seq ?? 0, signal);
    } finally {
      release();
    }
  }

  /** Stops capture, the offline loop, the workers and timers. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle?.abort();
    await this.#stopCapture();
    this.#pool?.close();
    this.#pool = null;
  }

  #startCapture(): void {
    if (this.#paused || this.#closed || this.#supervisor.running) return;
    if (this.#o.encodeWithImagescript && !this.#pool) {
      this.#pool = new EncoderPool({
        size: this.#o.workers,
        onResult: (result, capturedAt) => {
          this.#o.metrics.framesEncoded++;
          this.#o.metrics.observeEncode(result.ms);
          this.#publish(result.jpeg, result.width, result.height, capturedAt);
        },
        recycle: (pixels) => this.#o.buffers?.give(pixels),
        onDrop: (reason, detail) => {
          this.#o.metrics.drop(reason);
          if (reason === "error") this.#o.log.warn(`Encoding failed: ${detail}`);
        },
      });
    }
    this.#o.log.info(
      `Capture starting: ${this.#o.source.kind} ${redactUrls(this.#o.source.input)}`,
    );
    this.#supervisor.start();
  }

  async #stopCapture(): Promise<void> {
    this.#stopOffline();
    if (!this.#supervisor.running) return;
    await this.#supervisor.stop();
    this.#o.log.info("Capture stopped");
  }

  #scheduleIdle(): void {
    if (this.#o.alwaysOn || this.#closed) return;
    const idle = new AbortController();
    this.#idle = idle;
    this.#o.clock.sleep(this.#o.idleTimeout * 1000, idle.signal).then(
      async () => {
        if (this.#idle !== idle || this.#demand > 0) return;
        this.#idle = null;
        this.#o.log.info(`No viewers for ${this.#o.idleTimeout} s: stopping capture`);
        await this.#stopCapture();
      },
      () => {},
    );
  }

  #onFrame(frame: SourceFrame): void {
    const now = this.#o.clock.now();
    this.#o.metrics.framesCaptured++;
    this.#capturedMeter.tick(now);
    if (this.#pool) {
      const lines = this.#o.overlay
        ? overlayText({
          ...(this.#o.overlay.fps ? { fps: this.outputFps() } : {}),
          ...(this.#o.overlay.time ? { time: new Date(frame.capturedAt) } : {}),
          ...(this.#o.overlay.text ? { text: this.#o.overlay.text } : {}),
        })
        : [];
      if (!this.#pool.submit({ frame, quality: this.#o.quality, lines }) && frame.kind === "rgba") {
        // Dropped while every worker was busy: its buffer can carry the next frame.
        this.#o.buffers?.give(frame.data);
      }
      return;
    }
    if (frame.kind !== "jpeg") {
      // Raw pixels without a pool cannot happen by construction; count rather than crash.
      this.#o.metrics.drop("error");
      return;
    }
    this.#publish(frame.data, frame.width, frame.height, frame.capturedAt);
  }

  #publish(jpeg: Uint8Array, width: number, height: number, capturedAt: number): void {
    if (!this.#supervisor.running) return;
    const last = this.#lastPublished;
    if (
      this.#o.dropSameFrames && last && !last.offline && sameBytes(last.jpeg, jpeg) &&
      capturedAt - last.capturedAt < 1000
    ) {
      // Identical picture: skip it, but still send one a second so viewers see the stream is alive.
      this.#o.metrics.drop("same");
      return;
    }
    this.#lastSize = { width, height };
    this.#lastPublished = this.#o.hub.publish({ jpeg, width, height, capturedAt });
    this.#o.metrics.framesPublished++;
    this.#outputMeter.tick(this.#o.clock.now());
  }

  #startOffline(reason: string): void {
    this.#stopOffline();
    const ac = new AbortController();
    this.#offline = ac;
    const { clock, hub, quality, offlineImage, images } = this.#o;
    (async () => {
      while (!ac.signal.aborted) {
        const { width, height } = this.#lastSize;
        const jpeg = offlineImage ??
          await images.offline(width, height, reason, clock.now(), quality);
        if (ac.signal.aborted) return;
        hub.publish({ jpeg, width, height, capturedAt: clock.now(), offline: true });
        await clock.sleep(1000, ac.signal);
      }
    })().catch(() => {});
  }

  #stopOffline(): void {
    this.#offline?.abort();
    this.#offline = null;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
