/**
 * One-off imagescript jobs off the event loop: PNG snapshots, the offline card and fitting
 * `--offline-image`. A PNG of a 1080p frame takes hundreds of milliseconds; done in the main
 * thread it would freeze every viewer's stream for that long, once per poll.
 *
 * The worker starts on the first job and stops again after `idleMs` without one: an idle camera
 * server then carries no second JavaScript heap (about 20 MB with imagescript loaded).
 *
 * @module
 */
import type { Clock } from "../core/clock.ts";
import type { OrientationSteps } from "../core/orientation.ts";
import type { WorkerRequest, WorkerResponse } from "./encode_worker.ts";

type Job = WorkerRequest extends infer R ? R extends { id: number } ? Omit<R, "id"> : never
  : never;

/** Options of {@link ImageJobs}. */
export interface ImageJobsOptions {
  clock: Clock;
  /** Stop the worker after this long without a job (default 30 s). */
  idleMs?: number;
}

/** A lazily started worker that runs jobs one after another, answering each in turn. */
export class ImageJobs {
  readonly #clock: Clock;
  readonly #idleMs: number;
  #worker: Worker | null = null;
  #idle: AbortController | null = null;
  #nextId = 1;
  #closed = false;
  readonly #waiting = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();

  /** Nothing starts until the first job. */
  constructor(options: ImageJobsOptions) {
    this.#clock = options.clock;
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /** True while the worker runs. */
  get running(): boolean {
    return this.#worker !== null;
  }

  /** Re-encodes a JPEG as PNG, turning its pixels as `orient` says. */
  png(jpeg: Uint8Array, orient?: OrientationSteps): Promise<Uint8Array> {
    return this.#run({ type: "png", jpeg, orient });
  }

  /** Renders the "NO SIGNAL" card as JPEG. */
  offlineCard(
    width: number,
    height: number,
    reason: string,
    at: number,
    quality: number,
  ): Promise<Uint8Array> {
    return this.#run({ type: "offline", width, height, reason, at, quality });
  }

  /** Fits a PNG or JPEG picture into `width` x `height` on black, as JPEG. */
  fit(image: Uint8Array, width: number, height: number): Promise<Uint8Array> {
    return this.#run({ type: "fit", image, width, height });
  }

  /** Terminates the worker; pending jobs reject. */
  close(): void {
    this.#closed = true;
    this.#stop(new Error("Image jobs closed"));
  }

  #run(job: Job): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error("Image jobs closed"));
    this.#idle?.abort();
    this.#idle = null;
    const worker = this.#worker ??= this.#start();
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } as WorkerRequest);
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./encode_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<WorkerResponse>) => {
      const msg = e.data;
      const waiter = this.#waiting.get(msg.id);
      if (!waiter) return;
      this.#waiting.delete(msg.id);
      if (msg.ok) waiter.resolve(msg.bytes);
      else waiter.reject(new Error(msg.error));
      if (this.#waiting.size === 0) this.#scheduleIdleStop();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#stop(new Error(`Image worker failed: ${e.message}`));
    };
    return worker;
  }

  #scheduleIdleStop(): void {
    const idle = new AbortController();
    this.#idle = idle;
    this.#clock.sleep(this.#idleMs, idle.signal).then(() => {
      if (this.#idle === idle && this.#waiting.size === 0) this.#stop(null);
    }, () => {});
  }

  #stop(reason: Error | null): void {
    this.#idle?.abort();
    this.#idle = null;
    this.#worker?.terminate();
    this.#worker = null;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const w of waiting) w.reject(reason ?? new Error("Image worker stopped"));
  }
}
