/**
 * The encode worker: receives frames (buffers transferred, not copied), runs `encodeFrame`,
 * and transfers the JPEG back.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { encodeFrame, type EncodeJob } from "./frame_encoder.ts";

/** A request to the worker. */
export interface WorkerRequest {
  id: number;
  job: EncodeJob;
}

/** The worker's answer. */
export type WorkerResponse =
  | { id: number; ok: true; jpeg: Uint8Array; width: number; height: number; ms: number }
  | { id: number; ok: false; error: string };

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, job } = event.data;
  const started = performance.now();
  try {
    const result = await encodeFrame(job);
    const msg: WorkerResponse = { id, ok: true, ...result, ms: performance.now() - started };
    self.postMessage(msg, [result.jpeg.buffer as ArrayBuffer]);
  } catch (err) {
    const msg: WorkerResponse = { id, ok: false, error: String((err as Error)?.message ?? err) };
    self.postMessage(msg);
  }
};
