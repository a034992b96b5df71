/**
 * A pool of encode workers so overlay + JPEG of large frames keeps its frame rate on several
 * cores. Frames go to an idle worker with their pixel buffer transferred, results come out in
 * submission order, and a frame that finds every worker busy is dropped and counted: a queue
 * would only add latency to a live picture.
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
  busy: boolean;
}

type Outcome = { ok: true; result: EncodeResult & { ms: number } } | { ok: false };

/** Encode workers with ordered output and drop-when-busy. */
export class EncoderPool {
  readonly #slots: Slot[] = [];
  readonly #options: EncoderPoolOptions;
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
    const url = options.workerUrl ?? new URL("./encode_worker.ts", import.meta.url);
    for (let i = 0; i < options.size; i++) {
      const worker = new Worker(url.href, { type: "module" });
      const slot: Slot = { worker, busy: false };
      worker.onmessage = (e: MessageEvent<WorkerResponse>) => this.#onMessage(slot, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        slot.busy = false;
        options.onDrop?.("error", e.message);
      };
      this.#slots.push(slot);
    }
  }

  /** Number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** Workers currently encoding. */
  get busy(): number {
    return this.#slots.filter((s) => s.busy).length;
  }

  /**
   * Hands a frame to an idle worker. Returns false (and reports a "busy" drop) when every
   * worker is busy.
   */
  submit(job: EncodeJob): boolean {
    if (this.#closed) return false;
    const slot = this.#slots.find((s) => !s.busy);
    if (!slot) {
      this.#options.onDrop?.("busy");
      return false;
    }
    slot.busy = true;
    const id = this.#nextId++;
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

  #onMessage(slot: Slot, msg: WorkerResponse): void {
    slot.busy = false;
    const entry = this.#pending.get(msg.id);
    if (!entry) return;
    if (msg.ok && msg.pixels) this.#options.recycle?.(msg.pixels);
    if (msg.ok) {
      entry.outcome = {
        ok: true,
        result: { jpeg: msg.bytes, width: msg.width, height: msg.height, ms: msg.ms },
      };
    } else {
      entry.outcome = { ok: false };
      this.#options.onDrop?.("error", msg.error);
    }
    // Deliver in submission order: a frame that finished early waits for the ones before it.
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

  /** Terminates every worker. */
  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) slot.worker.terminate();
    this.#slots.length = 0;
    this.#pending.clear();
  }
}
