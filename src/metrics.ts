/**
 * Counters for `/metrics` and `/state`, and their Prometheus text rendering.
 *
 * @module
 */

/** Why frames were dropped. */
export type DropReason = "busy" | "corrupt" | "same" | "error";

const ENCODE_BUCKETS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

/** Everything counted since start. */
export class Metrics {
  /** Frames the source delivered. */
  framesCaptured = 0;
  /** Frames encoded by imagescript. */
  framesEncoded = 0;
  /** Frames published to viewers (encoded or passed through). */
  framesPublished = 0;
  /** Frames handed to viewers, summed over viewers. */
  framesSent = 0;
  /** Bytes handed to viewers. */
  bytesSent = 0;
  /** Source restarts. */
  restarts = 0;
  /** Viewers that ever connected. */
  clientsTotal = 0;
  /** Viewers closed by --send-timeout. */
  sendTimeouts = 0;
  /** Viewers refused by --max-clients. */
  clientsRejected = 0;
  /** Drops by reason. */
  readonly dropped: Record<DropReason, number> = { busy: 0, corrupt: 0, same: 0, error: 0 };
  readonly #buckets = new Array<number>(ENCODE_BUCKETS.length).fill(0);
  #encodeSum = 0;
  #encodeCount = 0;

  /** Counts a dropped frame. */
  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  /** Records one encode duration in milliseconds. */
  observeEncode(ms: number): void {
    const s = ms / 1000;
    this.#encodeSum += s;
    this.#encodeCount++;
    for (let i = 0; i < ENCODE_BUCKETS.length; i++) if (s <= ENCODE_BUCKETS[i]) this.#buckets[i]++;
  }

  /** Mean encode time in milliseconds (0 before the first). */
  get meanEncodeMs(): number {
    return this.#encodeCount ? this.#encodeSum * 1000 / this.#encodeCount : 0;
  }

  /** Prometheus text exposition, with the gauges given by the server. */
  render(gauges: {
    clients: number;
    online: boolean;
    paused: boolean;
    captureRunning: boolean;
    fps: number;
    uptimeSeconds: number;
  }): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    metric("tuchuan_frames_captured_total", "counter", "Frames delivered by the source.", [
      `tuchuan_frames_captured_total ${this.framesCaptured}`,
    ]);
    metric("tuchuan_frames_encoded_total", "counter", "Frames encoded by imagescript.", [
      `tuchuan_frames_encoded_total ${this.framesEncoded}`,
    ]);
    metric("tuchuan_frames_published_total", "counter", "Frames published to viewers.", [
      `tuchuan_frames_published_total ${this.framesPublished}`,
    ]);
    metric(
      "tuchuan_frames_dropped_total",
      "counter",
      "Frames dropped, by reason.",
      (Object.keys(this.dropped) as DropReason[]).map((r) =>
        `tuchuan_frames_dropped_total{reason="${r}"} ${this.dropped[r]}`
      ),
    );
    // Each bucket already counts every observation at or below its bound (see observeEncode).
    const bucketLines = ENCODE_BUCKETS.map((b, i) =>
      `tuchuan_encode_seconds_bucket{le="${b}"} ${this.#buckets[i]}`
    );
    metric("tuchuan_encode_seconds", "histogram", "Time to overlay and encode one frame.", [
      ...bucketLines,
      `tuchuan_encode_seconds_bucket{le="+Inf"} ${this.#encodeCount}`,
      `tuchuan_encode_seconds_sum ${this.#encodeSum}`,
      `tuchuan_encode_seconds_count ${this.#encodeCount}`,
    ]);
    metric("tuchuan_stream_frames_sent_total", "counter", "Frames sent, summed over viewers.", [
      `tuchuan_stream_frames_sent_total ${this.framesSent}`,
    ]);
    metric("tuchuan_stream_bytes_sent_total", "counter", "Bytes sent to viewers.", [
      `tuchuan_stream_bytes_sent_total ${this.bytesSent}`,
    ]);
    metric("tuchuan_clients", "gauge", "Connected stream viewers.", [
      `tuchuan_clients ${gauges.clients}`,
    ]);
    metric("tuchuan_clients_total", "counter", "Stream viewers that connected.", [
      `tuchuan_clients_total ${this.clientsTotal}`,
    ]);
    metric("tuchuan_clients_rejected_total", "counter", "Viewers refused by --max-clients.", [
      `tuchuan_clients_rejected_total ${this.clientsRejected}`,
    ]);
    metric("tuchuan_send_timeouts_total", "counter", "Viewers closed by --send-timeout.", [
      `tuchuan_send_timeouts_total ${this.sendTimeouts}`,
    ]);
    metric("tuchuan_source_online", "gauge", "1 while the source delivers frames.", [
      `tuchuan_source_online ${gauges.online ? 1 : 0}`,
    ]);
    metric("tuchuan_source_restarts_total", "counter", "Source restarts after a failure.", [
      `tuchuan_source_restarts_total ${this.restarts}`,
    ]);
    metric("tuchuan_capture_running", "gauge", "1 while capture runs (0 when idle).", [
      `tuchuan_capture_running ${gauges.captureRunning ? 1 : 0}`,
    ]);
    metric("tuchuan_paused", "gauge", "1 while paused.", [
      `tuchuan_paused ${gauges.paused ? 1 : 0}`,
    ]);
    metric("tuchuan_output_fps", "gauge", "Frames per second published.", [
      `tuchuan_output_fps ${gauges.fps.toFixed(3)}`,
    ]);
    metric("tuchuan_uptime_seconds", "gauge", "Seconds since start.", [
      `tuchuan_uptime_seconds ${gauges.uptimeSeconds.toFixed(3)}`,
    ]);
    return out.join("\n") + "\n";
  }
}
