/**
 * One `/stream` viewer: a pull-driven ReadableStream over the hub.
 *
 * `pull()` runs only when Deno's HTTP layer has taken the previous chunk, so a viewer that
 * drains slowly is asked for frames less often and simply skips the ones it missed: there is
 * no per-client queue, and a viewer that stops reading holds at most the one frame in flight.
 *
 * @module
 */
import type { Clock, EncodedFrame } from "../frame.ts";
import type { BacklogSample } from "../socket_backlog.ts";
import type { FrameHub } from "../frame_hub.ts";
import { FpsMeter } from "../fps_meter.ts";
import { closingBytes, openingBytes, partBytes, type PartMode } from "./multipart.ts";

/** Options of one viewer's stream. */
export interface ClientStreamOptions {
  /** Header layout: "advance" for Chromium `<img>`, "normal" for everyone else. */
  mode: PartMode;
  /** `?fps=N`: at most this many frames per second for this viewer; null for the source rate. */
  maxFps: number | null;
  clock: Clock;
  /** Aborts when the server stops: the stream then ends with the closing boundary. */
  stopSignal: AbortSignal;
  /** Address of the viewer, for /state and logs. */
  remote?: string;
  /**
   * This viewer's kernel send queue (see socket_backlog.ts). When given, a viewer found more
   * than two frames behind only gets its next frame once its queue has drained: it then sees
   * fewer, fresh frames instead of an ever older backlog.
   */
  backlog?: {
    get(): BacklogSample | null;
    intervalMs: number;
    setLagging?: (lagging: boolean) => void;
  };
  /** Called after each frame handed to the HTTP layer. */
  onFrame?: (client: StreamClient, frame: EncodedFrame, bytes: number) => void;
  /** Called once when the viewer is gone, whatever the reason. */
  onClose?: (client: StreamClient, reason: string) => void;
}

let nextId = 1;

/** Why a stream was ended by the server rather than by the viewer. */
export class ClientClosedError extends Error {
  /** @param message why; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClientClosedError";
  }
}

/** A connected viewer and its stream. */
export class StreamClient {
  /** Unique id, increasing. */
  readonly id: number = nextId++;
  /** Header layout. */
  readonly mode: PartMode;
  /** Per-viewer frame-rate cap, or null. */
  readonly maxFps: number | null;
  /** Remote address. */
  readonly remote: string;
  /** When the viewer connected (epoch ms). */
  readonly connectedAt: number;
  /** Frames handed to the HTTP layer. */
  framesSent = 0;
  /** Bytes handed to the HTTP layer. */
  bytesSent = 0;
  /** Epoch ms at which the HTTP layer was given a chunk it has not taken yet; null when idle. */
  pendingSince: number | null = null;
  /** The response body. */
  readonly stream: ReadableStream<Uint8Array>;
  readonly #meter = new FpsMeter();
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #closed = false;
  #lag = false;
  #keepingUpSince: number | null = null;
  #onClose?: (client: StreamClient, reason: string) => void;

  /** Subscribes to `hub` with the given options. */
  constructor(hub: FrameHub, options: ClientStreamOptions) {
    this.mode = options.mode;
    this.maxFps = options.maxFps;
    this.remote = options.remote ?? "";
    this.#clock = options.clock;
    this.connectedAt = options.clock.now();
    this.#onClose = options.onClose;
    const signal = this.#abort.signal;
    const stop = options.stopSignal;
    const onStop = () => this.#abort.abort(new ClientClosedError("Server stopping"));
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
    signal.addEventListener("abort", () => stop.removeEventListener("abort", onStop), {
      once: true,
    });

    let lastSeq = 0;
    let lastSentAt = -Infinity;
    let lastBytes = 0;
    // lastSentAt is the fps-cap schedule; drain pacing needs when the last frame really went.
    let lastSendTime = -Infinity;
    const backlog = options.backlog;
    const mode = this.mode;
    const interval = this.maxFps ? 1000 / this.maxFps : 0;
    const clock = this.#clock;
    const endWithBoundary = (controller: ReadableStreamDefaultController<Uint8Array>) => {
      controller.enqueue(closingBytes(mode));
      controller.close();
      this.#finish("server stopping");
    };

    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        // The opening boundary goes out with the response head, before any frame exists.
        controller.enqueue(openingBytes(mode));
        this.pendingSince = clock.now();
      },
      pull: async (controller) => {
        this.pendingSince = null;
        if (signal.aborted) return endWithBoundary(controller);
        try {
          if (interval > 0) {
            const wait = lastSentAt + interval - clock.now();
            if (wait > 0) await clock.sleep(wait, signal);
          }
          let frame = await hub.next(lastSeq, signal);
          if (
            backlog && lastBytes > 0 && await this.#paceByBacklog(backlog, lastSendTime, lastBytes)
          ) {
            // Send the newest frame, not the one that was current before the wait.
            frame = await hub.next(lastSeq, signal);
          }
          const bytes = partBytes(frame, mode);
          controller.enqueue(bytes);
          const now = clock.now();
          this.pendingSince = now;
          lastSeq = frame.seq;
          lastBytes = bytes.byteLength;
          lastSendTime = now;
          lastSentAt = interval > 0 && now - lastSentAt < 2 * interval
            ? lastSentAt + interval
            : now;
          this.framesSent++;
          this.bytesSent += bytes.byteLength;
          this.#meter.tick(now);
          options.onFrame?.(this, frame, bytes.byteLength);
        } catch {
          // The server is stopping (or its hub closed): end with the closing boundary, unless
          // the viewer is already gone.
          if (!this.#closed) endWithBoundary(controller);
        }
      },
      cancel: (reason) => {
        this.#finish(`client left${reason ? `: ${String(reason)}` : ""}`);
      },
    }, { highWaterMark: 0 });
  }

  /**
   * Drain pacing: flags the viewer as lagging when a reading taken after its last send shows
   * more than two frames queued, and while it lags, waits until its queue has drained before
   * the next frame. It stops lagging after 3 s of draining each frame within a few readings.
   * Returns true when it waited (the caller then fetches the newest frame).
   */
  async #paceByBacklog(
    backlog: NonNullable<ClientStreamOptions["backlog"]>,
    lastSentAt: number,
    lastBytes: number,
  ): Promise<boolean> {
    const clock = this.#clock;
    const first = backlog.get();
    if (
      !this.#lag && first && first.sampledAt > lastSentAt && first.bytes > 2 * lastBytes
    ) {
      this.#lag = true;
      this.#keepingUpSince = null;
      backlog.setLagging?.(true);
    }
    if (!this.#lag) return false;
    let waited = false;
    let prev = Infinity;
    for (;;) {
      const r = backlog.get();
      if (!r || (r.sampledAt > lastSentAt && r.bytes <= lastBytes / 4)) break;
      if (r.bytes < prev) {
        // Progress: the send timeout counts from the last time the queue shrank.
        prev = r.bytes;
        this.pendingSince = clock.now();
      }
      waited = true;
      await clock.sleep(backlog.intervalMs, this.#abort.signal);
    }
    this.pendingSince = null;
    const now = clock.now();
    if (now - lastSentAt <= 3 * backlog.intervalMs) {
      this.#keepingUpSince ??= now;
      if (now - this.#keepingUpSince >= 3000) {
        this.#lag = false;
        backlog.setLagging?.(false);
      }
    } else {
      this.#keepingUpSince = null;
    }
    return waited;
  }

  /** True while this viewer is paced by its drain rate. */
  get lagging(): boolean {
    return this.#lag;
  }

  /** Frames per second actually delivered to this viewer. */
  fps(now: number): number {
    return this.#meter.fps(now);
  }

  /** True once the viewer is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Cuts the viewer off (for example after `--send-timeout`): errors the stream so the HTTP
   * layer drops the connection.
   */
  terminate(reason: string): void {
    if (this.#closed) return;
    const err = new ClientClosedError(reason);
    try {
      this.#controller?.error(err);
    } catch {
      // Already closed by the HTTP layer.
    }
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pendingSince = null;
    if (!this.#abort.signal.aborted) this.#abort.abort(new ClientClosedError(reason));
    this.#onClose?.(this, reason);
  }
}
