/**
 * `/state`: what each camera is doing, from what it actually serves. The size and rate come
 * from the frames (not from the flags), and the source block says which device and mode were
 * chosen, what was asked, and why.
 *
 * @module
 */
import { redactUrls } from "../core/redact.ts";
import type { Camera } from "../pipeline/camera.ts";

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The JSON of one camera. */
export function cameraState(camera: Camera, now: number) {
  const { supervisor, capture, publisher, planner, source, metrics, viewers } = camera;
  const served = publisher.size ?? planner.offer?.size ?? null;
  const plan = planner.current;
  const facts = source.facts();
  return {
    name: camera.name,
    source: {
      kind: source.kind,
      input: redactUrls(source.input),
      state: supervisor.state,
      online: supervisor.online,
      reason: redactUrls(supervisor.reason),
      running: capture.running,
      ...(facts.device && facts.device !== source.input ? { device: facts.device } : {}),
      mode: facts.mode ?? planner.offer?.mode ?? null,
      ...(facts.why ? { why: facts.why } : {}),
      asked: facts.asked ?? null,
      notes: facts.notes ?? planner.offer?.notes ?? [],
      width: served?.width ?? null,
      height: served?.height ?? null,
      fps: round(publisher.fps()),
    },
    encoder: {
      path: plan?.path ?? null,
      reason: plan?.reason ?? "waiting for the source to say what it offers",
      workers: plan?.path === "imagescript" ? camera.encoder.workers : 0,
      meanEncodeMs: round(metrics.meanEncodeMs),
    },
    width: served?.width ?? null,
    height: served?.height ?? null,
    fps: round(publisher.fps()),
    clients: viewers.size,
    viewers: viewers.list().map((v) => ({
      id: v.id,
      fps: round(v.fps(now)),
      maxFps: v.maxFps,
      mode: v.mode,
      lagging: v.lagging,
      framesSent: v.framesSent,
      bytesSent: v.bytesSent,
      seconds: round((now - v.connectedAt) / 1000),
    })),
    paused: capture.paused,
    frames: {
      captured: metrics.framesCaptured,
      published: metrics.framesPublished,
      dropped: { ...metrics.dropped },
    },
    restarts: metrics.restarts,
  };
}

/** Process memory in MB. */
export function memoryState(): { rssMB: number; heapMB: number; externalMB: number } {
  const m = Deno.memoryUsage();
  return {
    rssMB: round(m.rss / 1048576),
    heapMB: round(m.heapUsed / 1048576),
    externalMB: round(m.external / 1048576),
  };
}
