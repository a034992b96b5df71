/**
 * Splits a byte stream of concatenated JPEGs (ffmpeg's `-f mjpeg` or `-f image2pipe` output) into
 * whole JPEGs, however the input happens to be chunked.
 *
 * @module
 */

/** Default cap on one JPEG: larger frames are dropped (a 4K JPEG at quality 100 is ~10 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;

/** Options for {@linkcode JpegSplitter}. */
export interface JpegSplitterOptions {
  /** Frames longer than this are dropped and counted in `oversizedFrames`. Default 32 MiB. */
  maxFrameBytes?: number;
}

// Parser states. The parser never looks back across a chunk boundary: every "previous byte was
// 0xFF" situation is a state of its own, so each input byte is visited once.
const enum State {
  /** Outside a frame, looking for 0xFF. */
  Seek,
  /** Outside a frame, the previous byte was 0xFF. */
  SeekFf,
  /** Inside the header part of a frame, expecting the 0xFF of the next marker. */
  Marker,
  /** Read 0xFF, expecting the marker code (or more 0xFF fill bytes). */
  MarkerFf,
  /** Expecting the high byte of a segment length. */
  LengthHigh,
  /** Expecting the low byte of a segment length. */
  LengthLow,
  /** Skipping the payload of a marker segment. */
  Segment,
  /** Inside entropy-coded data, looking for 0xFF. */
  Entropy,
  /** Inside entropy-coded data, the previous byte was 0xFF. */
  EntropyFf,
}

const SOS = 0xda;
const SOI_FF = new Uint8Array([0xff]);

// The mutable parser; kept apart from the stream subclass because the transformer callbacks must
// exist before `super()` returns.
class SplitterCore {
  readonly maxFrameBytes: number;
  skippedBytes = 0;
  oversizedFrames = 0;
  #state = State.Seek;
  #marker = 0;
  #lengthHigh = 0;
  #remaining = 0;
  /** Pieces of the current frame from earlier chunks (views, not copies). */
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  /** The current frame passed the cap: follow its structure to its end but keep nothing. */
  #discarding = false;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  get #inFrame(): boolean {
    return this.#state !== State.Seek && this.#state !== State.SeekFf;
  }

  transform(chunk: Uint8Array, enqueue: (frame: Uint8Array) => void): void {
    const n = chunk.length;
    // Where the current frame starts within this chunk (0 when it began in an earlier chunk).
    let start = 0;
    let i = 0;
    // Opens a frame whose SOI ends just before `after`; its 0xFF may sit in the previous chunk.
    const openFrame = (after: number) => {
      this.#parts = [];
      this.#partsBytes = 0;
      this.#discarding = false;
      if (after >= 2) {
        start = after - 2;
      } else {
        this.#parts.push(SOI_FF);
        this.#partsBytes = 1;
        start = 0;
      }
      this.#state = State.Marker;
    };
    // A new SOI inside a frame: the frame so far was cut short (e.g. the encoder restarted).
    // When the SOI's 0xFF came with the previous chunk it is already kept, hence the -1.
    const restartFrame = (after: number) => {
      this.#dropFrame(after >= 2 ? after - 2 - start : -1);
      openFrame(after);
    };
    while (i < n) {
      switch (this.#state) {
        case State.Seek: {
          const ff = chunk.indexOf(0xff, i);
          if (ff < 0) {
            this.skippedBytes += n - i;
            i = n;
          } else {
            this.skippedBytes += ff - i;
            i = ff + 1;
            this.#state = State.SeekFf;
          }
          break;
        }
        case State.SeekFf: {
          const b = chunk[i++];
          if (b === 0xd8) {
            // The 0xFF before this byte was never counted as skipped: it opens the frame.
            openFrame(i);
          } else if (b === 0xff) {
            this.skippedBytes += 1;
          } else {
            this.skippedBytes += 2;
            this.#state = State.Seek;
          }
          break;
        }
        case State.Marker: {
          if (chunk[i] !== 0xff) {
            // Not a marker where one must be: the frame is corrupt. Resynchronise from this byte.
            this.#dropFrame(i - start);
            this.#state = State.Seek;
            break;
          }
          i++;
          this.#state = State.MarkerFf;
          break;
        }
        case State.MarkerFf: {
          const b = chunk[i++];
          if (b === 0xff) break; // fill byte
          if (b === 0xd8) {
            restartFrame(i);
          } else if (b === 0xd9) {
            // EOI before any scan: a tables-only JPEG. Whole, so pass it on; validation is
            // jpegInfo's job downstream.
            start = this.#endFrame(chunk, start, i, enqueue);
          } else if (b === 0x01 || (b >= 0xd0 && b <= 0xd7)) {
            this.#state = State.Marker;
          } else if (b === 0x00) {
            this.#dropFrame(i - start);
            this.#state = State.Seek;
          } else {
            this.#marker = b;
            this.#state = State.LengthHigh;
          }
          break;
        }
        case State.LengthHigh:
          this.#lengthHigh = chunk[i++];
          this.#state = State.LengthLow;
          break;
        case State.LengthLow: {
          const length = (this.#lengthHigh << 8) | chunk[i++];
          if (length < 2) {
            this.#dropFrame(i - start);
            this.#state = State.Seek;
            break;
          }
          this.#remaining = length - 2;
          this.#state = this.#remaining > 0
            ? State.Segment
            : this.#marker === SOS
            ? State.Entropy
            : State.Marker;
          break;
        }
        case State.Segment: {
          // Segments are skipped by length, so an 0xFFD9 inside an EXIF thumbnail is not an end.
          const take = Math.min(this.#remaining, n - i);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) {
            this.#state = this.#marker === SOS ? State.Entropy : State.Marker;
          }
          break;
        }
        case State.Entropy: {
          const ff = chunk.indexOf(0xff, i);
          if (ff < 0) {
            i = n;
          } else {
            i = ff + 1;
            this.#state = State.EntropyFf;
          }
          break;
        }
        case State.EntropyFf: {
          const b = chunk[i++];
          if (b === 0x00 || b === 0x01 || (b >= 0xd0 && b <= 0xd7)) {
            // Stuffed zero or restart marker: still entropy data.
            this.#state = State.Entropy;
          } else if (b === 0xff) {
            // Fill byte; the marker code is still to come.
          } else if (b === 0xd9) {
            start = this.#endFrame(chunk, start, i, enqueue);
          } else if (b === 0xd8) {
            restartFrame(i);
          } else {
            // Another segment between scans (DHT, SOS, ... in a progressive JPEG).
            this.#marker = b;
            this.#state = State.LengthHigh;
          }
          break;
        }
      }
    }
    if (this.#inFrame) this.#keep(chunk.subarray(start, n));
  }

  flush(): void {
    // A frame still open when the input ends is incomplete.
    if (this.#inFrame) this.#dropFrame(0);
    else if (this.#state === State.SeekFf) this.skippedBytes += 1;
    this.#state = State.Seek;
  }

  /** Keeps a piece of the current frame, dropping the frame once it passes the cap. */
  #keep(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.#discarding) {
      this.skippedBytes += piece.length;
      return;
    }
    this.#parts.push(piece);
    this.#partsBytes += piece.length;
    if (this.#partsBytes > this.maxFrameBytes) {
      this.oversizedFrames++;
      this.#discarding = true;
      this.skippedBytes += this.#partsBytes;
      this.#parts = [];
      this.#partsBytes = 0;
    }
  }

  /**
   * Forgets the current frame; `tail` more bytes of it sit in the current chunk (-1: the last
   * byte already kept belongs to the next frame).
   */
  #dropFrame(tail: number): void {
    this.skippedBytes += this.#partsBytes + tail;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#discarding = false;
  }

  /** Completes the frame ending just before `end` and returns where the next one may start. */
  #endFrame(
    chunk: Uint8Array,
    start: number,
    end: number,
    enqueue: (frame: Uint8Array) => void,
  ): number {
    const last = chunk.subarray(start, end);
    const total = this.#partsBytes + last.length;
    this.#state = State.Seek;
    if (this.#discarding || total > this.maxFrameBytes) {
      if (!this.#discarding) this.oversizedFrames++;
      this.skippedBytes += this.#discarding ? last.length : total;
    } else {
      // One copy per frame: a contiguous frame that pins none of the input chunks.
      const frame = new Uint8Array(total);
      let offset = 0;
      for (const part of this.#parts) {
        frame.set(part, offset);
        offset += part.length;
      }
      frame.set(last, offset);
      enqueue(frame);
    }
    this.#parts = [];
    this.#partsBytes = 0;
    this.#discarding = false;
    return end;
  }
}

/**
 * A `TransformStream` from arbitrary chunks of concatenated JPEGs to one chunk per whole JPEG.
 *
 * From each SOI it walks the marker segments by their lengths up to SOS (so an EOI inside an APP
 * segment, such as an EXIF thumbnail, does not end the frame), then scans the entropy-coded data
 * for EOI, skipping stuffed zeros and restart markers and following further segments of
 * progressive JPEGs. Bytes outside frames, corrupt frames and frames over `maxFrameBytes` are
 * dropped and counted; the parser resynchronises on the next SOI. It is O(n) over the input and
 * copies each frame once.
 */
export class JpegSplitter extends TransformStream<Uint8Array, Uint8Array> {
  #core: SplitterCore;

  /** Throws a RangeError when `maxFrameBytes` is not a positive integer. */
  constructor(options: JpegSplitterOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new RangeError(`Max frame bytes must be a positive integer, got ${maxFrameBytes}`);
    }
    const core = new SplitterCore(maxFrameBytes);
    super({
      transform: (chunk, controller) => {
        core.transform(chunk, (frame) => controller.enqueue(frame));
      },
      flush: () => core.flush(),
    });
    this.#core = core;
  }

  /** Input bytes that did not end up in an emitted JPEG: garbage, corrupt or oversized frames. */
  get skippedBytes(): number {
    return this.#core.skippedBytes;
  }

  /** Frames dropped because they exceeded `maxFrameBytes`. */
  get oversizedFrames(): number {
    return this.#core.oversizedFrames;
  }
}
