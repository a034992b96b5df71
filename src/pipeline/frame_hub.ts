/**
 * The hub: holds the newest encoded frame and hands it to every client that asks.
 *
 * There is no queue per client. A client asks for "the first frame after sequence N"; if the hub
 * already has a newer one it gets it at once, otherwise it waits for the next publish. A slow
 * client therefore skips frames instead of building a backlog, and one encode serves everyone.
 * A short ring of past frames serves `/snapshot.jpg?ago=SECONDS`.
 *
 * @module
 */
import type { EncodedFrame } from "../core/frame.ts";

/** What `publish()` takes: a frame without its sequence number. */
export type FrameInput = Omit<EncodedFrame, "seq">;

interface Waiter {
  resolve: (frame: EncodedFrame) => void;
  reject: (reason: unknown) => void;
  signal?: AbortSignal;
}

/**
 * Frames kept for `?ago=` are at least this far apart: four a second are enough to look back
 * "about two seconds", and a ring of every frame would hold 150 frames for the default 5 s at
 * 30 fps (3 MB at 640x480, 30 MB at 1080p).
 */
export const HISTORY_STEP_MS = 250;

/** Newest-frame fan-out with a bounded history ring. */
export class FrameHub {
  #latest: EncodedFrame | null = null;
  #seq = 0;
  #waiters = new Set<Waiter>();
  /**
   * The waiters of each signal. A viewer waits with the same signal for every frame; one abort
   * listener per signal, added the first time, replaces an add and a remove per frame (Deno's
   * `addEventListener` is a few microseconds of option parsing and bookkeeping each time, which
   * was a tenth of a viewer's JavaScript per frame).
   */
  #bySignal = new WeakMap<AbortSignal, Set<Waiter>>();
  #history: EncodedFrame[] = [];
  #historyMs: number;
  #historyMax: number;
  #staleThrough = 0;
  #closed = false;

  /**
   * @param options.historyMs how far back `frameAgo()` can reach (0 keeps only the newest frame)
   * @param options.historyMax a cap on the number of frames kept for history, whatever their age
   */
  constructor(options: { historyMs?: number; historyMax?: number } = {}) {
    this.#historyMs = options.historyMs ?? 0;
    this.#historyMax = options.historyMax ?? 300;
  }

  /** The newest frame, or null before the first publish. */
  get latest(): EncodedFrame | null {
    return this.#latest;
  }

  /**
   * Frames up to this sequence number were captured before capture last stopped (idle): a new
   * viewer starts after it, so that its first picture is one taken after it came, not one that
   * may be minutes old.
   */
  get staleThrough(): number {
    return this.#staleThrough;
  }

  /** Marks every frame published so far as stale (capture stopped for lack of viewers). */
  markStale(): void {
    this.#staleThrough = this.#seq;
  }

  /** Number of clients currently waiting for a frame (for tests and leak checks). */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Publishes a frame to every waiting client; returns it with its sequence number. */
  publish(input: FrameInput): EncodedFrame {
    const frame: EncodedFrame = {
      seq: ++this.#seq,
      jpeg: input.jpeg,
      width: input.width,
      height: input.height,
      capturedAt: input.capturedAt,
      offline: input.offline,
    };
    this.#latest = frame;
    const lastKept = this.#history.at(-1)?.capturedAt ?? -Infinity;
    if (this.#historyMs > 0 && !frame.offline && frame.capturedAt - lastKept >= HISTORY_STEP_MS) {
      this.#history.push(frame);
      const oldest = frame.capturedAt - this.#historyMs - 1000;
      while (
        this.#history.length > this.#historyMax ||
        (this.#history.length > 1 && this.#history[0].capturedAt < oldest)
      ) this.#history.shift();
    }
    const ready = this.#waiters;
    if (ready.size === 0) return frame;
    this.#waiters = new Set();
    for (const w of ready) {
      if (w.signal) this.#bySignal.get(w.signal)?.delete(w);
      w.resolve(frame);
    }
    return frame;
  }

  /**
   * The first frame with a sequence number greater than `after`: the newest one at once if it
   * qualifies, else the next one published. Rejects when `signal` aborts or the hub closes.
   */
  next(after: number, signal?: AbortSignal): Promise<EncodedFrame> {
    if (this.#closed) return Promise.reject(new HubClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const latest = this.#latest;
    if (latest && latest.seq > after) return Promise.resolve(latest);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      this.#waiters.add(waiter);
      if (signal) this.#watch(signal).add(waiter);
    });
  }

  /** The waiters of `signal`, listening for its abort the first time it is seen. */
  #watch(signal: AbortSignal): Set<Waiter> {
    let mine = this.#bySignal.get(signal);
    if (mine) return mine;
    const set = new Set<Waiter>();
    mine = set;
    this.#bySignal.set(signal, set);
    // Removing the waiters on abort is what keeps a leaving client from leaking a closure.
    signal.addEventListener("abort", () => {
      this.#bySignal.delete(signal);
      for (const w of set) {
        this.#waiters.delete(w);
        w.reject(signal.reason);
      }
      set.clear();
    }, { once: true });
    return set;
  }

  /**
   * The newest frame captured at least `ms` milliseconds before `now`, from the history ring;
   * null when the ring does not reach that far back.
   */
  frameAgo(ms: number, now: number): EncodedFrame | null {
    if (ms <= 0) return this.#latest;
    const target = now - ms;
    for (let i = this.#history.length - 1; i >= 0; i--) {
      if (this.#history[i].capturedAt <= target) return this.#history[i];
    }
    return null;
  }

  /** Bytes held by the history ring (for /state and the memory bound). */
  get historyBytes(): number {
    let n = 0;
    for (const f of this.#history) n += f.jpeg.byteLength;
    return n;
  }

  /** Rejects every waiting client and refuses new ones. */
  close(): void {
    this.#closed = true;
    const waiting = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiting) {
      if (w.signal) this.#bySignal.get(w.signal)?.delete(w);
      w.reject(new HubClosedError());
    }
  }
}

/** Raised to waiting clients when the hub closes (server shutdown). */
export class HubClosedError extends Error {
  /** @param options the usual `cause` */
  constructor(options?: ErrorOptions) {
    super("The frame hub is closed", options);
    this.name = "HubClosedError";
  }
}
