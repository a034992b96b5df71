/**
 * Recycled pixel buffers for raw frames. A 1080p RGBA frame is 8 MB; at 30 fps a fresh buffer
 * per frame is 240 MB/s of garbage that V8 frees late, which showed as ~480 MB of RSS on the
 * overlay path. Frames dropped by a busy encoder, and buffers the workers hand back after
 * encoding, come back here instead.
 *
 * @module
 */

/** A small free list of equally sized byte buffers. */
export class BufferPool {
  readonly #free: Uint8Array[] = [];
  readonly #max: number;

  /** @param max how many spare buffers to keep at most */
  constructor(max = 4) {
    this.#max = max;
  }

  /** Spare buffers held. */
  get size(): number {
    return this.#free.length;
  }

  /** A buffer of exactly `size` bytes: a recycled one when available, else a new one. */
  take(size: number): Uint8Array {
    while (this.#free.length > 0) {
      const buf = this.#free.pop()!;
      if (buf.byteLength === size) return buf;
    }
    return new Uint8Array(size);
  }

  /** Gives a buffer back (ignored when detached or when the pool is full). */
  give(buf: Uint8Array): void {
    if (buf.byteLength === 0 || this.#free.length >= this.#max) return;
    this.#free.push(buf);
  }
}
