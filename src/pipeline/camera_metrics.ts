/**
 * What one camera counts since start, for `/metrics` and `/state`.
 *
 * @module
 */

/** Why frames were dropped. */
export type DropReason = "busy" | "corrupt" | "same" | "error";

/** Drop reasons in the order `/metrics` lists them. */
export const DROP_REASONS: readonly DropReason[] = ["busy", "corrupt", "same", "error"];

/** Upper bounds (seconds) of the encode-time histogram. */
export const ENCODE_BUCKETS: readonly number[] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

/**
 * Upper bounds (seconds) of the send-delay histogram: from a frame's capture until its part is
 * written to a viewer's connection (the kernel took it whole). It is the server's share of a
 * viewer's latency, whatever the network and the viewer add.
 */
export const SEND_DELAY_BUCKETS: readonly number[] = [
  0.001,
  0.002,
  0.005,
  0.01,
  0.02,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
];

/** Counters of one camera. */
export class CameraMetrics {
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
  /** Hook runs by outcome. */
  hooksRun = 0;
  /** Hook runs that failed, timed out or could not start. */
  hooksFailed = 0;
  /** Drops by reason. */
  readonly dropped: Record<DropReason, number> = { busy: 0, corrupt: 0, same: 0, error: 0 };
  /** Encode-time histogram: observations at or below each bound of {@link ENCODE_BUCKETS}. */
  readonly encodeBuckets: number[] = new Array<number>(ENCODE_BUCKETS.length).fill(0);
  /** Sum of encode times, seconds. */
  encodeSum = 0;
  /** Number of encodes observed. */
  encodeCount = 0;

  /**
   * Send-delay histogram: observations in each bucket of {@link SEND_DELAY_BUCKETS} alone (the
   * last element counts those above the last bound); `/metrics` writes them cumulative. One
   * increment per frame and viewer, since it runs for every part sent.
   */
  readonly sendDelayCounts: number[] = new Array<number>(SEND_DELAY_BUCKETS.length + 1).fill(0);
  /** Sum of send delays, seconds. */
  sendDelaySum = 0;

  /** Counts a dropped frame. */
  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  /** Records one encode duration in milliseconds. */
  observeEncode(ms: number): void {
    const s = ms / 1000;
    this.encodeSum += s;
    this.encodeCount++;
    for (let i = 0; i < ENCODE_BUCKETS.length; i++) {
      if (s <= ENCODE_BUCKETS[i]) this.encodeBuckets[i]++;
    }
  }

  /** Records the delay from capture until one part was written to one viewer, in milliseconds. */
  observeSendDelay(ms: number): void {
    const s = ms / 1000;
    this.sendDelaySum += s;
    let i = 0;
    while (i < SEND_DELAY_BUCKETS.length && s > SEND_DELAY_BUCKETS[i]) i++;
    this.sendDelayCounts[i]++;
  }

  /** Mean encode time in milliseconds (0 before the first). */
  get meanEncodeMs(): number {
    return this.encodeCount ? this.encodeSum * 1000 / this.encodeCount : 0;
  }
}
