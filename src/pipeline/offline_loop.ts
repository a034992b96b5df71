/**
 * While the source is down, viewers get a picture saying so: the "NO SIGNAL" card (reason and
 * time on it) or the user's `--offline-image`, at the stream's size, once a second, so that
 * every connection stays alive and every browser shows the news.
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { Size } from "../core/frame.ts";
import type { Logger } from "../core/logger.ts";
import { messageOf } from "../core/errors.ts";
import type { ImageJobs } from "../image/image_jobs.ts";
import type { Publisher } from "./publisher.ts";

/** Options of {@link OfflineLoop}. */
export interface OfflineLoopOptions {
  clock: Clock;
  images: ImageJobs;
  publisher: Publisher;
  log: Logger;
  /** JPEG quality of the card. */
  quality: number;
  /** The bytes of `--offline-image`, or null for the generated card. */
  offlineImage: Uint8Array | null;
  /** The size to draw at: the stream's, or what the source is expected to deliver. */
  size: () => Size;
}

/** The once-a-second offline picture. */
export class OfflineLoop {
  readonly #o: OfflineLoopOptions;
  #run: AbortController | null = null;
  /** `--offline-image` fitted to one size; refitted when the size changes. */
  #fitted: { size: Size; jpeg: Uint8Array } | null = null;

  /** Nothing runs until `start()`. */
  constructor(options: OfflineLoopOptions) {
    this.#o = options;
  }

  /** True while the card is being sent. */
  get running(): boolean {
    return this.#run !== null;
  }

  /** Starts (or restarts, with a new reason) sending the offline picture. */
  start(reason: string): void {
    this.stop();
    const run = new AbortController();
    this.#run = run;
    this.#loop(reason, run.signal);
  }

  /** Stops sending it (the source is back, or capture stopped). */
  stop(): void {
    this.#run?.abort();
    this.#run = null;
  }

  async #loop(reason: string, signal: AbortSignal): Promise<void> {
    const { clock, log } = this.#o;
    let lastError = "";
    while (!signal.aborted) {
      try {
        const size = this.#o.size();
        const jpeg = await this.#picture(size, reason);
        if (signal.aborted) return;
        this.#o.publisher.publishOffline(jpeg, size.width, size.height);
        lastError = "";
      } catch (err) {
        if (signal.aborted) return;
        // Logged once per kind of failure, not once a second; the loop goes on regardless.
        const message = messageOf(err);
        if (message !== lastError) log.error(`Offline picture failed: ${message}`);
        lastError = message;
      }
      try {
        await clock.sleep(1000, signal);
      } catch {
        return;
      }
    }
  }

  async #picture(size: Size, reason: string): Promise<Uint8Array> {
    const { images, offlineImage, clock, quality } = this.#o;
    if (!offlineImage) {
      return await images.offlineCard(size.width, size.height, reason, clock.now(), quality);
    }
    const fitted = this.#fitted;
    if (fitted && fitted.size.width === size.width && fitted.size.height === size.height) {
      return fitted.jpeg;
    }
    const jpeg = await images.fit(offlineImage, size.width, size.height);
    this.#fitted = { size, jpeg };
    return jpeg;
  }
}
