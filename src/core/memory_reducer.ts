/**
 * Gives memory back to the system once a crowd of viewers has come and gone.
 *
 * Every viewer's connection leaves garbage behind (its request, streams and buffers). Most of it
 * outlives a young-generation collection while the viewer watches, so it lands in V8's old
 * generation, which V8 collects only when that grows well past its last size, and even then
 * keeps the emptied pages. Measured: 500 viewers connecting and leaving in turn grew the process
 * from 66 to 79 MB, and it stayed there; on a Pi that memory belongs to the rest of the board.
 *
 * So when the last viewer leaves and nobody comes back for a moment, and enough viewers have
 * left since the last time, the reducer runs one thorough collection (20–45 ms, while nobody
 * is watching): the process went back to 72 MB. One viewer who closes a tab costs nothing, and a
 * steady audience is never paused.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import { collectAllGarbage } from "./gc_pacer.ts";

/** Options of {@link MemoryReducer}. */
export interface MemoryReducerOptions {
  clock: Clock;
  /** Milliseconds with no viewer before collecting (a viewer arriving meanwhile puts it off). */
  quietMs?: number;
  /** Viewers that must have left since the last collection for another to be worth it. */
  minDepartures?: number;
  /** Runs the collection; returns false when it cannot (V8 without `--expose-gc`). */
  collect?: () => boolean;
  /** Called after each collection, with how long it took and how many viewers had left. */
  onCollect?: (info: { ms: number; departures: number }) => void;
}

/** Default quiet time: long enough for a viewer that reconnects at once to keep it from firing. */
export const REDUCER_QUIET_MS = 250;

/** Default departures between collections. */
export const REDUCER_MIN_DEPARTURES = 16;

/** Counts viewers across every camera and collects garbage when they have all gone. */
export class MemoryReducer {
  readonly #clock: Clock;
  readonly #quietMs: number;
  readonly #minDepartures: number;
  readonly #collect: () => boolean;
  readonly #onCollect?: (info: { ms: number; departures: number }) => void;
  #viewers = 0;
  #departures = 0;
  /** When the last viewer left (the quiet time runs from there). */
  #emptySince = 0;
  /** Set while a timer runs; one timer serves a whole churn of viewers, none is made per viewer. */
  #timer: AbortController | null = null;
  #disposed = false;
  #unavailable = false;

  /** @param options clock, thresholds and the collection itself */
  constructor(options: MemoryReducerOptions) {
    this.#clock = options.clock;
    this.#quietMs = options.quietMs ?? REDUCER_QUIET_MS;
    this.#minDepartures = options.minDepartures ?? REDUCER_MIN_DEPARTURES;
    this.#collect = options.collect ?? collectAllGarbage;
    this.#onCollect = options.onCollect;
  }

  /** True while a collection waits for its quiet time (for leak checks). */
  get waiting(): boolean {
    return this.#timer !== null;
  }

  /** A viewer connected: a waiting collection will find someone there and not run. */
  joined(): void {
    this.#viewers++;
  }

  /** A viewer left: with nobody left and enough departures, a collection is scheduled. */
  left(): void {
    this.#viewers = Math.max(0, this.#viewers - 1);
    this.#departures++;
    if (this.#viewers > 0 || this.#departures < this.#minDepartures) return;
    if (this.#disposed || this.#unavailable) return;
    this.#emptySince = this.#clock.now();
    if (!this.#timer) this.#arm(this.#quietMs);
  }

  /** Calls off a waiting collection for good (server shutdown). */
  dispose(): void {
    this.#disposed = true;
    this.#timer?.abort();
    this.#timer = null;
  }

  #arm(ms: number): void {
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(ms, timer.signal).then(() => {
      this.#timer = null;
      // Someone is watching: no pause for them. The next departure to leave nobody re-arms.
      if (this.#viewers > 0) return;
      const left = this.#emptySince + this.#quietMs - this.#clock.now();
      if (left > 0) this.#arm(left);
      else this.#run();
    }, () => {
      // Called off by dispose(): nothing to do.
    });
  }

  #run(): void {
    const t0 = performance.now();
    if (!this.#collect()) {
      this.#unavailable = true;
      return;
    }
    const departures = this.#departures;
    this.#departures = 0;
    this.#onCollect?.({ ms: performance.now() - t0, departures });
  }
}
