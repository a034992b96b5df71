/**
 * `GET /healthz`, for monitoring and needing no auth: 200 while every camera is fine (delivering,
 * starting, idle or paused), 503 when any is down, with which one and why. A camera that is
 * starting (capture just woke up for a viewer) is not an outage: `"starting"`, 200. URLs in a
 * reason are cut to their scheme: this route tells strangers nothing about the cameras.
 *
 * @module
 */
import { hideUrls } from "../core/redact.ts";
import type { Camera } from "../pipeline/camera.ts";

/** One camera's health. */
export type Health = "ok" | "starting" | "idle" | "paused" | "offline";

/** How one camera is doing. */
export function cameraHealth(camera: Camera): { status: Health; reason?: string } {
  if (camera.capture.paused) return { status: "paused" };
  if (!camera.capture.running) return { status: "idle" };
  switch (camera.supervisor.state) {
    case "online":
      return { status: "ok" };
    case "offline":
      return { status: "offline", reason: hideUrls(camera.supervisor.reason) };
    default:
      return { status: "starting" };
  }
}

/** The body and status of `/healthz` for all cameras. */
export function healthBody(cameras: readonly Camera[]): { status: number; body: unknown } {
  const each = cameras.map((c) => [c.name, cameraHealth(c)] as const);
  const down = each.filter(([, h]) => h.status === "offline");
  const first = each[0][1];
  const status: Health = down.length > 0
    ? "offline"
    : each.every(([, h]) => h.status === first.status)
    ? first.status
    : "ok";
  return {
    status: down.length > 0 ? 503 : 200,
    body: {
      status,
      ...(down.length > 0
        ? {
          reason: down.map(([n, h]) => cameras.length > 1 ? `${n}: ${h.reason}` : h.reason).join(
            "; ",
          ),
        }
        : {}),
      cameras: Object.fromEntries(each),
    },
  };
}
