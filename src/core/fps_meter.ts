/**
 * Frames-per-second over a sliding window, as the seed's FPSCounter measured it, with time
 * injected so tests can drive it.
 *
 * @module
 */

/** Counts events and reports their rate over roughly the last `windowMs` milliseconds. */
export class FpsMeter {
  #windowMs: number;
  #start = -1;
  #count = 0;
  #fps = 0;
  #last = -Infinity;

  /** @param windowMs the measuring window (default one second, as the seed did) */
  constructor(windowMs = 1000) {
    this.#windowMs = windowMs;
  }

  /** Records one event at time `now` (milliseconds). */
  tick(now: number): void {
    if (this.#start < 0) this.#start = now;
    this.#count++;
    this.#last = now;
    const elapsed = now - this.#start;
    if (elapsed >= this.#windowMs) {
      this.#fps = (this.#count - 1) * 1000 / elapsed;
      this.#start = now;
      this.#count = 1;
    }
  }

  /** The measured rate at time `now`; falls to 0 when nothing happened for two windows. */
  fps(now: number): number {
    if (now - this.#last > 2 * this.#windowMs) return 0;
    if (this.#fps === 0 && this.#count > 1 && now > this.#start) {
      // Before the first full window, estimate from what we have so a new viewer sees a number.
      return (this.#count - 1) * 1000 / Math.max(1, this.#last - this.#start);
    }
    return this.#fps;
  }
}
