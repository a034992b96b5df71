/**
 * The set of connected `/stream` viewers: counts them, enforces `--max-clients`, and closes a
 * viewer whose send cannot progress for `--send-timeout`.
 *
 * One sweep timer serves every viewer (instead of a timer per frame per viewer), and it runs
 * only while someone is connected, so an empty server holds no timer.
 *
 * @module
 */
import type { StreamClient } from "./http/client_stream.ts";

/** Options of the registry. */
export interface ClientRegistryOptions {
  /** 0 for no limit. */
  maxClients: number;
  /** Milliseconds a pending send may last before the viewer is closed. */
  sendTimeoutMs: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Called whenever the number of viewers changes. */
  onCountChange?: (count: number) => void;
  /** Called when a viewer is closed for a stalled send. */
  onTimeout?: (client: StreamClient) => void;
}

/** Connected viewers. */
export class ClientRegistry {
  readonly #clients = new Set<StreamClient>();
  readonly #options: ClientRegistryOptions;
  #sweep: ReturnType<typeof setInterval> | null = null;

  /** @param options limits and callbacks */
  constructor(options: ClientRegistryOptions) {
    this.#options = options;
  }

  /** Number of viewers. */
  get size(): number {
    return this.#clients.size;
  }

  /** True when `--max-clients` is reached. */
  get full(): boolean {
    return this.#options.maxClients > 0 && this.#clients.size >= this.#options.maxClients;
  }

  /** The viewers, oldest first. */
  list(): StreamClient[] {
    return [...this.#clients];
  }

  /** Adds a viewer. */
  add(client: StreamClient): void {
    this.#clients.add(client);
    if (this.#sweep === null) {
      const period = Math.max(50, Math.min(1000, this.#options.sendTimeoutMs / 4));
      this.#sweep = setInterval(() => this.sweep(), period);
    }
    this.#options.onCountChange?.(this.#clients.size);
  }

  /** Removes a viewer (idempotent). */
  remove(client: StreamClient): void {
    if (!this.#clients.delete(client)) return;
    if (this.#clients.size === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
    this.#options.onCountChange?.(this.#clients.size);
  }

  /** Closes every viewer whose pending send is older than the send timeout. */
  sweep(): void {
    const now = this.#options.now();
    for (const client of this.#clients) {
      const since = client.pendingSince;
      if (since !== null && now - since > this.#options.sendTimeoutMs) {
        this.#options.onTimeout?.(client);
        client.terminate(`send timeout after ${this.#options.sendTimeoutMs} ms`);
        this.remove(client);
      }
    }
  }

  /** Stops the sweep timer (server shutdown). */
  dispose(): void {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
  }
}
