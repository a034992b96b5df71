/**
 * A pool of encode workers so overlay + JPEG of large frames keeps its frame rate on several
 * cores. Frames go to an idle worker with their pixel buffer transferred, results come out in
 * submission order, and a frame that finds every worker busy is dropped and counted: a queue
 * would only add latency to a live picture.
 *
 * A worker that crashes fails the frame it held (counted as an encode error), is replaced, and
 * the frames after it are delivered as usual: nothing waits behind a frame that will never come.
 *
 * @module
 */
import type { EncodeJob, EncodeResult } from "./frame_encoder.ts";
import type { WorkerRequest, WorkerResponse } from "./encode_worker.ts";

/** Options of the pool. */
export interface EncoderPoolOptions {
  /** Number of workers (`--workers`). */
  size: number;
  /** Called with each result, in the order the jobs were submitted. */
  onResult: (result: EncodeResult & { ms: number }, capturedAt: number) => void;
  /** Called when a frame is dropped: "busy" (every worker busy) or "error" (encode failed). */
  onDrop?: (reason: "busy" | "error", detail?: string) => void;
  /** Receives the raw pixel buffers the workers hand back, for reuse. */
  recycle?: (pixels: Uint8Array) => void;
  /** Worker module, for tests. */
  workerUrl?: URL;
}

interface Slot {
  worker: Worker;
  /** The job this worker holds, or null when idle. */
  job: number | null;
}

type Outcome = { ok: true; result: EncodeResult & { ms: number } } | { ok: false };

/** Encode workers with ordered output and drop-when-busy. */
export class EncoderPool {
  readonly #slots: Slot[] = [];
  readonly #options: EncoderPoolOptions;
  readonly #url: URL;
  readonly #pending = new Map<number, { capturedAt: number; outcome?: Outcome }>();
  #nextId = 1;
  #nextOut = 1;
  #closed = false;

  /** Starts `options.size` workers. */
  constructor(options: EncoderPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(`Invalid worker count ${options.size}: expected an integer >= 1`);
    }
    this.#options = options;
    this.#url = options.workerUrl ?? new URL("./encode_worker.ts", import.meta.url);
    for (let i = 0; i < options.size; i++) {
      const slot: Slot = { worker: null as unknown as Worker, job: null };
      this.#spawn(slot);
      this.#slots.push(slot);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Workers currently encoding. */
  get busy(): number {
    return this.#slots.filter((s) => s.job !== null).length;
  }

  /**
   * Hands a frame to an idle worker. Returns false (and reports a "busy" drop) when every
   * worker is busy.
   */
  submit(job: EncodeJob): boolean {
    if (this.#closed) return false;
    const slot = this.#slots.find((s) => s.job === null);
    if (!slot) {
      this.#options.onDrop?.("busy");
      return false;
    }
    const id = this.#nextId++;
    slot.job = id;
    this.#pending.set(id, { capturedAt: job.frame.capturedAt });
    const data = job.frame.data;
    // Transfer raw frames (their buffer is ours alone); JPEGs from a recording are shared, so copy.
    const transfer = job.frame.kind === "rgba" && data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength
      ? [data.buffer as ArrayBuffer]
      : [];
    const request: WorkerRequest = { id, type: "frame", job };
    slot.worker.postMessage(request, transfer);
    return true;
  }

  /** Terminates every worker. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) slot.worker.terminate();
    this.#slots.length = 0;
    this.#pending.clear();
  }

  #spawn(slot: Slot): void {
    const worker = new Worker(this.#url.href, { type: "module" });
    slot.worker = worker;
    worker.onmessage = (e: MessageEvent<WorkerResponse>) => this.#onMessage(slot, e.data);
    worker.onerror = (e) => {
      // The worker is gone: fail its frame, replace it, and let the frames after it through.
      e.preventDefault();
      const id = slot.job;
      slot.job = null;
      worker.terminate();
      if (this.#closed) return;
      this.#options.onDrop?.("error", `Encode worker crashed: ${e.message}`);
      this.#spawn(slot);
      if (id !== null) this.#settle(id, { ok: false });
    };
  }

  #onMessage(slot: Slot, msg: WorkerResponse): void {
    slot.job = null;
    if (!this.#pending.has(msg.id)) return;
    if (msg.ok && msg.pixels) this.#options.recycle?.(msg.pixels);
    if (msg.ok) {
      this.#settle(msg.id, {
        ok: true,
        result: { jpeg: msg.bytes, width: msg.width, height: msg.height, ms: msg.ms },
      });
    } else {
      this.#options.onDrop?.("error", msg.error);
      this.#settle(msg.id, { ok: false });
    }
  }

  /** Records a job's outcome and delivers every result that is now next in order. */
  #settle(id: number, outcome: Outcome): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    entry.outcome = outcome;
    for (;;) {
      const next = this.#pending.get(this.#nextOut);
      if (!next?.outcome) break;
      this.#pending.delete(this.#nextOut);
      this.#nextOut++;
      if (next.outcome.ok && !this.#closed) {
        this.#options.onResult(next.outcome.result, next.capturedAt);
      }
    }
  }
}
