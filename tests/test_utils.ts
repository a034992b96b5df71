/**
 * Helpers shared by the tests: a manual clock.
 *
 * @module
 */
import type { Clock } from "../src/frame.ts";

/** A clock that only moves when the test calls `advance()`. */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];

  /** Starts at `start` milliseconds since the epoch. */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** Current fake time. */
  now(): number {
    return this.#now;
  }

  /** Resolves when `advance()` moves the clock past `now() + ms`. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer = { at: this.#now + ms, resolve, reject };
      this.#timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Number of sleeps waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, resolving due sleeps in order and letting their callbacks run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = next.at;
      next.resolve();
      // Let the woken task run up to its next await.
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.#now = target;
    for (let i = 0; i < 20; i++) await Promise.resolve();
  }
}
