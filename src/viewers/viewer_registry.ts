/**
 * The set of connected `/stream` viewers of one camera: counts them, enforces `--max-clients`,
 * and closes a viewer whose send cannot progress for `--send-timeout`.
 *
 * One sweep timer (through the injected clock) serves every viewer, instead of a timer per frame
 * per viewer, and it runs only while someone is connected: an empty server holds no timer.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { ViewerStream } from "./viewer_stream.ts";

/** Options of the registry. */
export interface ViewerRegistryOptions {
  /** 0 for no limit. */
  maxClients: number;
  /** Milliseconds a pending send may last before the viewer is closed. */
  sendTimeoutMs: number;
  clock: Clock;
  /** Called whenever the number of viewers changes, with the new count. */
  onCountChange?: (count: number) => void;
  /** Called when a viewer is closed for a stalled send. */
  onTimeout?: (viewer: ViewerStream) => void;
}

/** Connected viewers. */
export class ViewerRegistry {
  readonly #viewers = new Set<ViewerStream>();
  readonly #o: ViewerRegistryOptions;
  #sweep: AbortController | null = null;

  /** @param options limits and callbacks */
  constructor(options: ViewerRegistryOptions) {
    this.#o = options;
  }

  /** Number of viewers. */
  get size(): number {
    return this.#viewers.size;
  }

  /** True when `--max-clients` is reached. */
  get full(): boolean {
    return this.#o.maxClients > 0 && this.#viewers.size >= this.#o.maxClients;
  }

  /** True while the sweep timer runs (for leak checks). */
  get sweeping(): boolean {
    return this.#sweep !== null;
  }

  /** The viewers, oldest first. */
  list(): ViewerStream[] {
    return [...this.#viewers];
  }

  /** Adds a viewer. */
  add(viewer: ViewerStream): void {
    this.#viewers.add(viewer);
    if (this.#sweep === null) {
      this.#sweep = new AbortController();
      const period = Math.max(50, Math.min(1000, this.#o.sendTimeoutMs / 4));
      this.#o.clock.every(period, () => this.sweep(), this.#sweep.signal);
    }
    this.#o.onCountChange?.(this.#viewers.size);
  }

  /** Removes a viewer (idempotent). */
  remove(viewer: ViewerStream): void {
    if (!this.#viewers.delete(viewer)) return;
    if (this.#viewers.size === 0) {
      this.#sweep?.abort();
      this.#sweep = null;
    }
    this.#o.onCountChange?.(this.#viewers.size);
  }

  /** Closes every viewer whose pending send is older than the send timeout. */
  sweep(): void {
    const now = this.#o.clock.now();
    for (const viewer of this.#viewers) {
      const since = viewer.pendingSince;
      if (since !== null && now - since > this.#o.sendTimeoutMs) {
        this.#o.onTimeout?.(viewer);
        viewer.terminate(`send timeout after ${this.#o.sendTimeoutMs} ms`);
        this.remove(viewer);
      }
    }
  }

  /** Stops the sweep timer (server shutdown). */
  dispose(): void {
    this.#sweep?.abort();
    this.#sweep = null;
  }
}
