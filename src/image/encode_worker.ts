/**
 * The image worker: every imagescript job that would otherwise stall the event loop (and with
 * it every viewer's stream) runs here: frame orientation + overlay + JPEG, PNG snapshots, the
 * offline card and fitting `--offline-image`. Buffers travel transferred, not copied.
 *
 * @module
 */
import type { OrientationSteps } from "../core/orientation.ts";
import { encodeFrame, type EncodeJob, jpegToPng } from "./frame_encoder.ts";
import { fitOfflineImage, offlineJpeg } from "./offline_card.ts";

/** A request to the worker. */
export type WorkerRequest =
  | { id: number; type: "frame"; job: EncodeJob }
  | { id: number; type: "png"; jpeg: Uint8Array; orient?: OrientationSteps }
  | {
    id: number;
    type: "offline";
    width: number;
    height: number;
    reason: string;
    at: number;
    quality: number;
  }
  | { id: number; type: "fit"; image: Uint8Array; width: number; height: number };

/**
 * The worker's answer: `bytes` is a JPEG (frame, offline, fit) or a PNG (png); `pixels` hands a
 * raw frame's buffer back for reuse.
 */
export type WorkerResponse =
  | {
    id: number;
    ok: true;
    bytes: Uint8Array;
    width: number;
    height: number;
    ms: number;
    pixels?: Uint8Array;
  }
  | { id: number; ok: false; error: string };

async function run(
  req: WorkerRequest,
): Promise<{ bytes: Uint8Array; width: number; height: number; pixels?: Uint8Array }> {
  switch (req.type) {
    case "frame": {
      const r = await encodeFrame(req.job);
      const pixels = req.job.frame.kind === "rgba" ? req.job.frame.data : undefined;
      return { bytes: r.jpeg, width: r.width, height: r.height, pixels };
    }
    case "png":
      return { bytes: await jpegToPng(req.jpeg, req.orient), width: 0, height: 0 };
    case "offline":
      return {
        bytes: await offlineJpeg(req.width, req.height, req.reason, new Date(req.at), req.quality),
        width: req.width,
        height: req.height,
      };
    case "fit":
      return {
        bytes: await fitOfflineImage(req.image, req.width, req.height),
        width: req.width,
        height: req.height,
      };
  }
}

/**
 * The worker's global scope, typed by hand: a `/// <reference lib="deno.worker" />` here would
 * leak worker globals into every file type-checked together with this one.
 */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerResponse, transfer?: Transferable[]): void;
};

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const req = event.data;
  const started = performance.now();
  try {
    const result = await run(req);
    const msg: WorkerResponse = {
      id: req.id,
      ok: true,
      ...result,
      ms: performance.now() - started,
    };
    const transfer = [result.bytes.buffer as ArrayBuffer];
    if (result.pixels) transfer.push(result.pixels.buffer as ArrayBuffer);
    scope.postMessage(msg, transfer);
  } catch (err) {
    const msg: WorkerResponse = {
      id: req.id,
      ok: false,
      error: String((err as Error)?.message ?? err),
    };
    scope.postMessage(msg);
  }
};
