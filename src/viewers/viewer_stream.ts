/**
 * One `/stream` viewer: a pull-driven body over the hub (a {@link DirectStream}, which tuchuan's
 * HTTP/1.1 server writes straight to the socket and anything else reads as a ReadableStream).
 *
 * The next chunk is asked for only when the HTTP layer has taken the previous one, so a viewer that drains
 * slowly is asked for frames less often and simply skips the ones it missed: there is no
 * per-viewer queue in tuchuan.
 *
 * The kernel, though, takes whatever is written until the socket's send buffer is full, and
 * Linux grows that buffer up to 4 MiB (`net.ipv4.tcp_wmem`): measured, a viewer reading one
 * frame a second let 3.2 MB (about 150 frames) pile up, so each frame it saw was minutes old.
 * Making the kernel refuse earlier (`TCP_NOTSENT_LOWAT`) only moved the pile into Deno's HTTP
 * layer (hyper buffers a few hundred KB per connection), where nothing can see it. So each
 * frame first asks how much the kernel still holds for this viewer (`sendQueue`, one ioctl):
 * more than one and a half frames means it lags, and its next frame waits until the queue has
 * drained, then is the newest one.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { EncodedFrame } from "../core/frame.ts";
import { FpsMeter } from "../core/fps_meter.ts";
import type { FrameHub } from "../pipeline/frame_hub.ts";
import { DirectStream } from "../net/direct_stream.ts";
import {
  closingBytes,
  openingBytes,
  partBytes,
  type PartMode,
} from "../multipart/multipart_writer.ts";

/** Options of one viewer's stream. */
export interface ViewerStreamOptions {
  /** Header layout: "advance" for browsers' `<img>`, "normal" for everyone else. */
  mode: PartMode;
  /** `?fps=N`: at most this many frames per second for this viewer; null for the source rate. */
  maxFps: number | null;
  clock: Clock;
  /** Aborts when the server stops: the stream then ends with the closing boundary. */
  stopSignal: AbortSignal;
  /** Address of the viewer, for /state and logs. */
  remote?: string;
  /** Bytes the kernel holds for this viewer's connection, or null when unknown. */
  sendQueue?: () => number | null;
  /** Called after each frame handed to the HTTP layer. */
  onFrame?: (viewer: ViewerStream, frame: EncodedFrame, bytes: number) => void;
  /**
   * Called when the HTTP layer has taken a frame's part whole (written to the connection: it
   * asks for the next chunk only then), with the time it did.
   */
  onWritten?: (viewer: ViewerStream, frame: EncodedFrame, now: number) => void;
  /** Called once when the viewer is gone, whatever the reason. */
  onClose?: (viewer: ViewerStream, reason: string) => void;
}

let nextId = 1;

/** How often a lagging viewer's send queue is looked at while it drains. */
export const DRAIN_POLL_MS = 50;

/** Why a stream was ended by the server rather than by the viewer. */
export class ViewerClosedError extends Error {
  /** @param message why; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ViewerClosedError";
  }
}

/** A connected viewer and its stream. */
export class ViewerStream {
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
  /** True while this viewer is paced by how fast it drains. */
  lagging = false;
  /** The response body: read as a stream, or taken whole by tuchuan's HTTP/1.1 server. */
  readonly stream: DirectStream;
  readonly #meter = new FpsMeter();
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #closed = false;
  #onClose?: (viewer: ViewerStream, reason: string) => void;

  /** Subscribes to `hub` with the given options. */
  constructor(hub: FrameHub, options: ViewerStreamOptions) {
    this.mode = options.mode;
    this.maxFps = options.maxFps;
    this.remote = options.remote ?? "";
    this.#clock = options.clock;
    this.connectedAt = options.clock.now();
    this.#onClose = options.onClose;
    const signal = this.#abort.signal;
    const stop = options.stopSignal;
    const onStop = () => this.#abort.abort(new ViewerClosedError("Server stopping"));
    if (stop.aborted) onStop();
    else stop.addEventListener("abort", onStop, { once: true });
    signal.addEventListener("abort", () => stop.removeEventListener("abort", onStop), {
      once: true,
    });

    // Frames captured before capture last stopped are not shown to a viewer that comes later.
    let lastSeq = hub.staleThrough;
    let lastSentAt = -Infinity;
    let lastBytes = 0;
    let opened = false;
    let ended = false;
    let inFlight: EncodedFrame | null = null;
    const sendQueue = options.sendQueue;
    const mode = this.mode;
    const interval = this.maxFps ? 1000 / this.maxFps : 0;
    const clock = this.#clock;
    const end = (): Uint8Array => {
      ended = true;
      this.#finish("server stopping");
      return closingBytes(mode);
    };

    // One chunk per call: the opening boundary, then a frame's part each time, then (when the
    // server stops) the closing boundary, then null. The HTTP layer asks for the next chunk only
    // once it has taken the last one.
    const next = async (): Promise<Uint8Array | null> => {
      if (ended) return null;
      if (!opened) {
        // The opening boundary goes out with the response head, before any frame exists.
        opened = true;
        this.pendingSince = clock.now();
        return openingBytes(mode);
      }
      this.pendingSince = null;
      if (inFlight) {
        options.onWritten?.(this, inFlight, clock.now());
        inFlight = null;
      }
      if (signal.aborted) return this.#closed ? null : end();
      try {
        if (interval > 0) {
          const wait = lastSentAt + interval - clock.now();
          if (wait > 0) await clock.sleep(wait, signal);
        }
        let frame = await hub.next(lastSeq, signal);
        // Checked synchronously: a viewer that keeps up (nearly always) costs no extra await.
        const queued = sendQueue && lastBytes > 0 ? this.#lagging(sendQueue, lastBytes) : null;
        if (queued !== null) {
          await this.#drain(sendQueue!, lastBytes, queued, signal);
          // Send the newest frame, not the one that was current before the wait.
          frame = await hub.next(lastSeq, signal);
        }
        const bytes = partBytes(frame, mode);
        const now = clock.now();
        this.pendingSince = now;
        lastSeq = frame.seq;
        lastBytes = bytes.byteLength;
        lastSentAt = interval > 0 && now - lastSentAt < 2 * interval ? lastSentAt + interval : now;
        this.framesSent++;
        this.bytesSent += bytes.byteLength;
        this.#meter.tick(now);
        options.onFrame?.(this, frame, bytes.byteLength);
        inFlight = frame;
        return bytes;
      } catch {
        // The server is stopping (or its hub closed): end with the closing boundary, unless
        // the viewer is already gone.
        return this.#closed ? null : end();
      }
    };

    this.stream = new DirectStream({
      next,
      cancel: (reason) => {
        this.#finish(`viewer left${reason ? `: ${String(reason)}` : ""}`);
      },
    });
  }

  /**
   * The bytes still queued when this viewer lags, else null: more than one and a half frames'
   * worth (a frame on its way is normal).
   */
  #lagging(sendQueue: () => number | null, lastBytes: number): number | null {
    const queued = sendQueue();
    if (queued === null || queued <= 1.5 * lastBytes) {
      this.lagging = false;
      return null;
    }
    return queued;
  }

  /**
   * Waits until a lagging viewer's queue has drained to a quarter of a frame. While it shrinks,
   * the send timeout counts from the last progress.
   */
  async #drain(
    sendQueue: () => number | null,
    lastBytes: number,
    queued: number | null,
    signal: AbortSignal,
  ): Promise<void> {
    this.lagging = true;
    const clock = this.#clock;
    let least = queued ?? 0;
    this.pendingSince = clock.now();
    while (queued !== null && queued > lastBytes / 4) {
      await clock.sleep(DRAIN_POLL_MS, signal);
      queued = sendQueue();
      if (queued !== null && queued < least) {
        least = queued;
        this.pendingSince = clock.now();
      }
    }
    this.pendingSince = null;
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
    this.stream.fail(new ViewerClosedError(reason));
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.pendingSince = null;
    if (!this.#abort.signal.aborted) this.#abort.abort(new ViewerClosedError(reason));
    this.#onClose?.(this, reason);
  }
}
