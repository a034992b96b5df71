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
    // A metric with one unlabelled value.
    const single = (name: string, type: "counter" | "gauge", help: string, value: number) =>
      metric(name, type, help, [`${name} ${value}`]);
    single(
      "tuchuan_frames_captured_total",
      "counter",
      "Frames delivered by the source.",
      this.framesCaptured,
    );
    single(
      "tuchuan_frames_encoded_total",
      "counter",
      "Frames encoded by imagescript.",
      this.framesEncoded,
    );
    single(
      "tuchuan_frames_published_total",
      "counter",
      "Frames published to viewers.",
      this.framesPublished,
    );
    metric(
      "tuchuan_frames_dropped_total",
      "counter",
      "Frames dropped, by reason.",
      (Object.keys(this.dropped) as DropReason[]).map((r) =>
        `tuchuan_frames_dropped_total{reason="${r}"} ${this.dropped[r]}`
      ),
    );
    // Each bucket already counts every observation at or below its bound (see observeEncode).
    metric("tuchuan_encode_seconds", "histogram", "Time to overlay and encode one frame.", [
      ...ENCODE_BUCKETS.map((b, i) =>
        `tuchuan_encode_seconds_bucket{le="${b}"} ${this.#buckets[i]}`
      ),
      `tuchuan_encode_seconds_bucket{le="+Inf"} ${this.#encodeCount}`,
      `tuchuan_encode_seconds_sum ${this.#encodeSum}`,
      `tuchuan_encode_seconds_count ${this.#encodeCount}`,
    ]);
    single(
      "tuchuan_stream_frames_sent_total",
      "counter",
      "Frames sent, summed over viewers.",
      this.framesSent,
    );
    single("tuchuan_stream_bytes_sent_total", "counter", "Bytes sent to viewers.", this.bytesSent);
    single("tuchuan_clients", "gauge", "Connected stream viewers.", gauges.clients);
    single("tuchuan_clients_total", "counter", "Stream viewers that connected.", this.clientsTotal);
    single(
      "tuchuan_clients_rejected_total",
      "counter",
      "Viewers refused by --max-clients.",
      this.clientsRejected,
    );
    single(
      "tuchuan_send_timeouts_total",
      "counter",
      "Viewers closed by --send-timeout.",
      this.sendTimeouts,
    );
    single(
      "tuchuan_source_online",
      "gauge",
      "1 while the source delivers frames.",
      gauges.online ? 1 : 0,
    );
    single(
      "tuchuan_source_restarts_total",
      "counter",
      "Source restarts after a failure.",
      this.restarts,
    );
    single(
      "tuchuan_capture_running",
      "gauge",
      "1 while capture runs (0 when idle).",
      gauges.captureRunning ? 1 : 0,
    );
    single("tuchuan_paused", "gauge", "1 while paused.", gauges.paused ? 1 : 0);
    single(
      "tuchuan_output_fps",
      "gauge",
      "Frames per second published.",
      Number(gauges.fps.toFixed(3)),
    );
    single(
      "tuchuan_uptime_seconds",
      "gauge",
      "Seconds since start.",
      Number(gauges.uptimeSeconds.toFixed(3)),
    );
    return out.join("\n") + "\n";
  }
}
