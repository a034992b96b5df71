/**
 * The real clock, and `abortableSleep` which every timer in tuchuan goes through so that an
 * aborted signal always clears its timer (no leaked ops in tests).
 *
 * @module
 */
import type { Clock } from "./frame.ts";

/**
 * Resolves after `ms` milliseconds; rejects with `signal.reason` as soon as `signal` aborts,
 * clearing the timer.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The wall clock of the machine. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: abortableSleep,
};
