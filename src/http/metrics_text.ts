/**
 * `GET /metrics`: the Prometheus text exposition of every camera's counters, labelled by
 * camera, and the server's own (connections ended by the guard, process memory).
 *
 * @module
 */
import type { GuardCounts } from "../net/connection_guard.ts";
import type { Camera } from "../pipeline/camera.ts";
import { DROP_REASONS, ENCODE_BUCKETS, SEND_DELAY_BUCKETS } from "../pipeline/camera_metrics.ts";

/** What the server adds to the cameras' metrics. */
export interface ServerGauges {
  uptimeSeconds: number;
  /** Connections the guard ended, by reason; null without a guard. */
  guard: GuardCounts | null;
}

function esc(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** The exposition text. */
export function renderMetrics(cameras: readonly Camera[], server: ServerGauges): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  /** One value per camera. */
  const perCamera = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    value: (c: Camera) => number,
  ) => metric(name, type, help, cameras.map((c) => `${name}{camera="${esc(c.name)}"} ${value(c)}`));

  perCamera(
    "tuchuan_frames_captured_total",
    "counter",
    "Frames delivered by the source.",
    (c) => c.metrics.framesCaptured,
  );
  perCamera(
    "tuchuan_frames_encoded_total",
    "counter",
    "Frames encoded by imagescript.",
    (c) => c.metrics.framesEncoded,
  );
  perCamera(
    "tuchuan_frames_published_total",
    "counter",
    "Frames published to viewers.",
    (c) => c.metrics.framesPublished,
  );
  metric(
    "tuchuan_frames_dropped_total",
    "counter",
    "Frames dropped, by reason.",
    cameras.flatMap((c) =>
      DROP_REASONS.map((r) =>
        `tuchuan_frames_dropped_total{camera="${esc(c.name)}",reason="${r}"} ${
          c.metrics.dropped[r]
        }`
      )
    ),
  );
  // Each bucket already counts every observation at or below its bound (see observeEncode).
  metric(
    "tuchuan_encode_seconds",
    "histogram",
    "Time to overlay and encode one frame.",
    cameras.flatMap((c) => {
      const l = `camera="${esc(c.name)}"`;
      const m = c.metrics;
      return [
        ...ENCODE_BUCKETS.map((b, i) =>
          `tuchuan_encode_seconds_bucket{${l},le="${b}"} ${m.encodeBuckets[i]}`
        ),
        `tuchuan_encode_seconds_bucket{${l},le="+Inf"} ${m.encodeCount}`,
        `tuchuan_encode_seconds_sum{${l}} ${m.encodeSum}`,
        `tuchuan_encode_seconds_count{${l}} ${m.encodeCount}`,
      ];
    }),
  );
  metric(
    "tuchuan_send_delay_seconds",
    "histogram",
    "From a frame's capture until its part was written to a viewer's connection, per part.",
    cameras.flatMap((c) => {
      const l = `camera="${esc(c.name)}"`;
      const m = c.metrics;
      let below = 0;
      const lines = SEND_DELAY_BUCKETS.map((b, i) => {
        below += m.sendDelayCounts[i];
        return `tuchuan_send_delay_seconds_bucket{${l},le="${b}"} ${below}`;
      });
      const count = below + m.sendDelayCounts[SEND_DELAY_BUCKETS.length];
      return [
        ...lines,
        `tuchuan_send_delay_seconds_bucket{${l},le="+Inf"} ${count}`,
        `tuchuan_send_delay_seconds_sum{${l}} ${m.sendDelaySum}`,
        `tuchuan_send_delay_seconds_count{${l}} ${count}`,
      ];
    }),
  );
  metric(
    "tuchuan_encode_path",
    "gauge",
    "1 for the encode path in force (passthrough, ffmpeg-encode, imagescript).",
    cameras.flatMap((c) => {
      const path = c.planner.current?.path;
      return path ? [`tuchuan_encode_path{camera="${esc(c.name)}",path="${path}"} 1`] : [];
    }),
  );
  perCamera(
    "tuchuan_frame_width_pixels",
    "gauge",
    "Width of the frames served.",
    (c) => c.publisher.size?.width ?? 0,
  );
  perCamera(
    "tuchuan_frame_height_pixels",
    "gauge",
    "Height of the frames served.",
    (c) => c.publisher.size?.height ?? 0,
  );
  perCamera(
    "tuchuan_output_fps",
    "gauge",
    "Frames per second published.",
    (c) => Number(c.publisher.fps().toFixed(3)),
  );
  perCamera(
    "tuchuan_stream_frames_sent_total",
    "counter",
    "Frames sent, summed over viewers.",
    (c) => c.metrics.framesSent,
  );
  perCamera(
    "tuchuan_stream_bytes_sent_total",
    "counter",
    "Bytes sent to viewers.",
    (c) => c.metrics.bytesSent,
  );
  perCamera("tuchuan_clients", "gauge", "Connected stream viewers.", (c) => c.viewers.size);
  perCamera(
    "tuchuan_clients_total",
    "counter",
    "Stream viewers that connected.",
    (c) => c.metrics.clientsTotal,
  );
  perCamera(
    "tuchuan_clients_rejected_total",
    "counter",
    "Viewers refused by --max-clients.",
    (c) => c.metrics.clientsRejected,
  );
  perCamera(
    "tuchuan_send_timeouts_total",
    "counter",
    "Viewers closed by --send-timeout.",
    (c) => c.metrics.sendTimeouts,
  );
  perCamera(
    "tuchuan_source_online",
    "gauge",
    "1 while the source delivers frames.",
    (c) => c.supervisor.online ? 1 : 0,
  );
  perCamera(
    "tuchuan_source_restarts_total",
    "counter",
    "Source restarts after a failure.",
    (c) => c.metrics.restarts,
  );
  perCamera(
    "tuchuan_capture_running",
    "gauge",
    "1 while capture runs (0 when idle).",
    (c) => c.capture.running ? 1 : 0,
  );
  perCamera("tuchuan_paused", "gauge", "1 while paused.", (c) => c.capture.paused ? 1 : 0);
  perCamera("tuchuan_hooks_run_total", "counter", "Hook programs run.", (c) => c.metrics.hooksRun);
  perCamera(
    "tuchuan_hooks_failed_total",
    "counter",
    "Hook programs that failed, timed out or did not start.",
    (c) => c.metrics.hooksFailed,
  );
  if (server.guard) {
    const g = server.guard;
    metric(
      "tuchuan_connections_closed_total",
      "counter",
      "Connections ended by the server, by reason.",
      (Object.keys(g) as (keyof GuardCounts)[]).map((r) =>
        `tuchuan_connections_closed_total{reason="${r}"} ${g[r]}`
      ),
    );
  }
  const mem = Deno.memoryUsage();
  metric("tuchuan_resident_memory_bytes", "gauge", "Resident memory of the tuchuan process.", [
    `tuchuan_resident_memory_bytes ${mem.rss}`,
  ]);
  metric("tuchuan_uptime_seconds", "gauge", "Seconds since start.", [
    `tuchuan_uptime_seconds ${Number(server.uptimeSeconds.toFixed(3))}`,
  ]);
  return out.join("\n") + "\n";
}
