/**
 * A response body that tuchuan's HTTP/1.1 server writes straight to the socket, chunk by chunk
 * as its source makes them, and that anything else (Deno.serve over TLS, tests, `fetch`) reads as
 * the ordinary `ReadableStream` it is.
 *
 * Why: a `/stream` viewer gets one chunk per frame for as long as it watches, and each chunk
 * through a `ReadableStream` is a pull, a controller enqueue and a reader's read request, each a
 * promise and a few calls into Deno's streams code: measured, a third of what one viewer costs
 * tuchuan's main thread (BENCHMARKS.md). Taken directly, a chunk is one call and one write.
 *
 * @module
 */

/** Where a direct body's chunks come from. */
export interface DirectSource {
  /** The next chunk; null once the body is over. Called again only after the last one settled. */
  next(): Promise<Uint8Array | null>;
  /** The reader is gone (the viewer hung up, or the write failed); a pending `next()` settles. */
  cancel(reason?: unknown): void;
}

/** A `ReadableStream` over a {@link DirectSource}, which a server may take over whole. */
export class DirectStream extends ReadableStream<Uint8Array> {
  readonly #source: DirectSource;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #taken: ((err: Error) => void) | null = null;
  #failed: Error | null = null;

  /** Chunks come from `source`, pulled one at a time (no queue ahead of the reader). */
  constructor(source: DirectSource) {
    // `start` runs inside super(), before `this` exists: the controller is kept after it.
    let started: ReadableStreamDefaultController<Uint8Array> | null = null;
    super({
      start: (controller) => {
        started = controller;
      },
      pull: async (controller) => {
        const chunk = await source.next();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: (reason) => source.cancel(reason),
    }, { highWaterMark: 0 });
    this.#controller = started;
    this.#source = source;
  }

  /**
   * Hands the source to a server that writes it itself, or null when the stream is already
   * being read (or was taken). `onFail` is called once if the body errs ({@link fail}): the
   * server then drops the connection.
   */
  take(onFail: (err: Error) => void): DirectSource | null {
    if (this.locked || this.#taken) return null;
    // Lock the stream so nothing else reads it meanwhile.
    this.getReader();
    this.#taken = onFail;
    if (this.#failed) onFail(this.#failed);
    return this.#source;
  }

  /** Errs the body: a reader sees the error, a server that took it drops the connection. */
  fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = err;
    if (this.#taken) {
      this.#taken(err);
      return;
    }
    try {
      this.#controller?.error(err);
    } catch {
      // Closed already.
    }
  }
}
