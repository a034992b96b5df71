/**
 * Who wants frames: viewers and snapshot requests `acquire()` the camera and release it when
 * done. Capture runs while anyone holds it (or always, with `--always-on`), and stops
 * `--idle-timeout` seconds after the last one lets go.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";

/** Options of {@link Demand}. */
export interface DemandOptions {
  clock: Clock;
  /** Seconds without anyone before `onIdle`. */
  idleTimeout: number;
  /** Someone wants frames and nobody did (or the idle timer was pending). */
  onWanted: () => void;
  /** Nobody has wanted frames for `idleTimeout` seconds. */
  onIdle: () => void;
}

/** A count of consumers with an idle timer, run through the injected clock. */
export class Demand {
  readonly #o: DemandOptions;
  #count = 0;
  #idle: AbortController | null = null;
  #closed = false;

  /** Nothing happens until the first `acquire()`. */
  constructor(options: DemandOptions) {
    this.#o = options;
  }

  /** Consumers holding the camera now. */
  get count(): number {
    return this.#count;
  }

  /** True while the idle timer runs (nobody holds it, capture has not stopped yet). */
  get idling(): boolean {
    return this.#idle !== null;
  }

  /** Registers a consumer; call the returned function when it is done (idempotent). */
  acquire(): () => void {
    this.#count++;
    this.#idle?.abort();
    this.#idle = null;
    if (!this.#closed) this.#o.onWanted();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#count--;
      if (this.#count === 0) this.#scheduleIdle();
    };
  }

  /** Stops the idle timer for good (server shutdown). */
  close(): void {
    this.#closed = true;
    this.#idle?.abort();
    this.#idle = null;
  }

  #scheduleIdle(): void {
    if (this.#closed) return;
    const idle = new AbortController();
    this.#idle = idle;
    this.#o.clock.sleep(this.#o.idleTimeout * 1000, idle.signal).then(() => {
      if (this.#idle !== idle || this.#count > 0) return;
      this.#idle = null;
      this.#o.onIdle();
    }, () => {});
  }
}
