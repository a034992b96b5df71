/**
 * One-off imagescript jobs off the event loop: PNG snapshots and the offline card. A PNG of a
 * 1080p frame takes hundreds of milliseconds; done in the main thread it would freeze every
 * viewer's stream for that long, once per poll.
 *
 * @module
 */
import type { WorkerRequest, WorkerResponse } from "./encode_worker.ts";

type Job = WorkerRequest extends infer R ? R extends { id: number } ? Omit<R, "id"> : never
  : never;

/** A lazily started worker that runs jobs one after another, answering each in turn. */
export class ImageJobs {
  #worker: Worker | null = null;
  #nextId = 1;
  readonly #waiting = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();

  /** Re-encodes a JPEG as PNG. */
  png(jpeg: Uint8Array): Promise<Uint8Array> {
    return this.#run({ type: "png", jpeg });
  }

  /** Renders the "NO SIGNAL" card as JPEG. */
  offline(
    width: number,
    height: number,
    reason: string,
    at: number,
    quality: number,
  ): Promise<Uint8Array> {
    return this.#run({ type: "offline", width, height, reason, at, quality });
  }

  /** Terminates the worker; pending jobs reject. */
  close(): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const w of this.#waiting.values()) w.reject(new Error("Image jobs closed"));
    this.#waiting.clear();
  }

  #run(job: Job): Promise<Uint8Array> {
    const worker = this.#worker ??= this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
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
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`Image worker failed: ${e.message}`);
      for (const w of this.#waiting.values()) w.reject(err);
      this.#waiting.clear();
      this.#worker = null;
    };
    return worker;
  }
}
