/**
 * A reader of `multipart/x-mixed-replace` streams (RFC 2046 framing as MJPEG servers use it), for
 * the replay and HTTP MJPEG sources, the tests and the benchmark load generator.
 *
 * @module
 */

/** One part of a multipart stream. */
export interface MultipartPart {
  /** The part's header block. */
  headers: Headers;
  /** The part's body, a fresh copy the caller owns. */
  body: Uint8Array;
}

/** Options for {@linkcode readMultipart}. */
export interface ReadMultipartOptions {
  /**
   * Strict mode accepts only the framing tuchuan writes for non-browser clients: `--B\r\n` first,
   * CRLF line endings, a `Content-Length` on every part and `\r\n--B` right after each body. A
   * stream that ends inside a part is an error. Default false.
   */
  strict?: boolean;
  /** Largest header block of one part, blank line included. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Largest body of one part. Default 64 MiB. */
  maxPartBytes?: number;
}

/** A multipart stream that breaks the framing rules, or exceeds a configured limit. */
export class MultipartParseError extends Error {
  /** Creates the error; `options.cause` carries an underlying error, if any. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MultipartParseError";
  }
}

/**
 * Extracts the `boundary` parameter of a `Content-Type` header value, unquoting it if quoted.
 * Throws a TypeError naming the value when there is no (non-empty) boundary.
 */
export function boundaryFromContentType(contentType: string): string {
  // Walk the parameters after the media type; a quoted value may contain ";" and "\"".
  const re = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const match of contentType.matchAll(re)) {
    if (match[1].toLowerCase() !== "boundary") continue;
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3];
    if (value.length > 0) return value;
  }
  throw new TypeError(`Content type ${JSON.stringify(contentType)} has no boundary parameter`);
}

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;
const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_MAX_PART_BYTES = 64 * 1024 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_LINE_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;
const LF_PATTERN = new Uint8Array([LF]);

/**
 * A byte queue with a read offset over one contiguous buffer. A chunk that arrives while the queue
 * is empty is adopted without copying; otherwise it is appended to owned storage, which is
 * compacted only when that moves at most half of it, so buffering stays linear in the input.
 * The queue never writes into adopted chunks.
 */
class ByteQueue {
  #own: Uint8Array = new Uint8Array(64 * 1024);
  #buf: Uint8Array = this.#own;
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  /** The byte at `index` from the read offset (the caller checks `index < length`). */
  at(index: number): number {
    return this.#buf[this.#start + index];
  }

  push(chunk: Uint8Array): void {
    if (this.length === 0) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    if (this.#buf !== this.#own || this.#end + chunk.length > this.#own.length) {
      const length = this.length;
      const live = this.#buf.subarray(this.#start, this.#end);
      if (length + chunk.length > this.#own.length) {
        this.#own = new Uint8Array(Math.max(this.#own.length * 2, length + chunk.length));
        this.#own.set(live);
      } else if (this.#buf !== this.#own) {
        this.#own.set(live);
      } else if (this.#start >= this.#own.length / 2) {
        this.#own.copyWithin(0, this.#start, this.#end);
      } else {
        // Compacting would move more than it frees: grow instead.
        this.#own = new Uint8Array(this.#own.length * 2);
        this.#own.set(live);
      }
      this.#buf = this.#own;
      this.#start = 0;
      this.#end = length;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Drops `n` bytes from the front. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) {
      this.#buf = this.#own;
      this.#start = this.#end = 0;
    }
  }

  /** Copies out bytes `[from, to)` relative to the read offset. */
  copy(from: number, to: number): Uint8Array {
    return this.#buf.slice(this.#start + from, this.#start + to);
  }

  /** Copies the first `n` bytes into `target` at offset 0 and drops them. */
  drainInto(target: Uint8Array, n: number): void {
    target.set(this.#buf.subarray(this.#start, this.#start + n));
    this.consume(n);
  }

  /** True when `pattern` sits at `index` (and is fully buffered). */
  matches(index: number, pattern: Uint8Array): boolean {
    if (index + pattern.length > this.length) return false;
    const base = this.#start + index;
    for (let k = 0; k < pattern.length; k++) {
      if (this.#buf[base + k] !== pattern[k]) return false;
    }
    return true;
  }

  /** The first index ≥ `from` where `pattern` starts, fully buffered; -1 when there is none. */
  indexOf(pattern: Uint8Array, from: number): number {
    const last = this.#end - pattern.length;
    let p = this.#start + from;
    while (p <= last) {
      // The native scan for the first byte does the heavy lifting on binary bodies.
      p = this.#buf.indexOf(pattern[0], p);
      if (p < 0 || p > last) return -1;
      let k = 1;
      while (k < pattern.length && this.#buf[p + k] === pattern[k]) k++;
      if (k === pattern.length) return p - this.#start;
      p++;
    }
    return -1;
  }

  /** The bytes `[from, to)` as a Latin-1 string (header lines are byte strings). */
  latin1(from: number, to: number): string {
    let s = "";
    for (let p = this.#start + from; p < this.#start + to; p++) {
      s += String.fromCharCode(this.#buf[p]);
    }
    return s;
  }
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Reads the parts of a `multipart/x-mixed-replace` body as they arrive.
 *
 * Each part's headers are parsed into a `Headers`. With a `Content-Length` the body is exactly
 * that many bytes, and the part is yielded as soon as they have arrived (the delimiter after it is
 * checked when the next part is requested, so a server that writes its boundary late costs no
 * latency). Without one (non-strict mode only) the body is every byte up to the next `\r\n--B`
 * (or `\n--B`); nothing else is trimmed, so a server that writes extra CR/LF before its boundary
 * leaves them at the end of the body, and callers that need a clean JPEG trim trailing CR/LF.
 *
 * Non-strict mode also skips a preamble before the first boundary, accepts a first part with no
 * opening boundary when the stream starts with a header line (the Flask seed does that), `\n` line
 * endings, transport padding after boundaries, and ends silently when the stream ends mid-part.
 * The close delimiter `--B--` ends the iteration; anything after it is ignored. An empty part with
 * no `Content-Length` right before the close delimiter (a header block a server sent ahead for a
 * frame that never came) is not yielded.
 *
 * Throws {@linkcode MultipartParseError} on framing errors (in strict mode) and on parts over
 * `maxHeaderBytes`/`maxPartBytes` (in both modes); errors of the stream itself pass through.
 * Stopping early (`break`, `return()`) or an error cancels the stream and releases its reader.
 * As with any generator, the arguments are checked (TypeError for a bad boundary, RangeError for a
 * bad limit) and the stream is locked when iteration starts, at the first `next()`.
 */
export async function* readMultipart(
  stream: ReadableStream<Uint8Array>,
  boundary: string,
  opts: ReadMultipartOptions = {},
): AsyncGenerator<MultipartPart> {
  if (typeof boundary !== "string" || boundary.length === 0 || /[\r\n]/.test(boundary)) {
    throw new TypeError(`Boundary ${JSON.stringify(boundary)} is not a valid multipart boundary`);
  }
  const strict = opts.strict ?? false;
  const maxHeaderBytes = positiveInteger(
    opts.maxHeaderBytes,
    DEFAULT_MAX_HEADER_BYTES,
    "Max header bytes",
  );
  const maxPartBytes = positiveInteger(opts.maxPartBytes, DEFAULT_MAX_PART_BYTES, "Max part bytes");
  const encoder = new TextEncoder();
  const dashBoundary = encoder.encode(`--${boundary}`);
  const crlfDelimiter = encoder.encode(`\r\n--${boundary}`);
  const lfDelimiter = encoder.encode(`\n--${boundary}`);

  const reader = stream.getReader();
  const queue = new ByteQueue();
  let ended = false;
  /** The number of the part being read, from 1 (0 before the first). */
  let part = 0;

  /** Reads one more chunk into the queue; false when the stream has ended. */
  const fill = async (): Promise<boolean> => {
    while (!ended) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      if (value.length > 0) {
        queue.push(value);
        return true;
      }
    }
    return false;
  };

  /** Buffers at least `n` bytes; false when the stream ends first. */
  const ensure = async (n: number): Promise<boolean> => {
    while (queue.length < n) {
      if (!await fill()) return false;
    }
    return true;
  };

  /** The stream ended inside part `n`: an error in strict mode, the end of iteration otherwise. */
  const endedInside = (n: number): false => {
    if (strict) throw new MultipartParseError(`Stream ended inside part ${n}`);
    return false;
  };

  const tooLarge = (size: number) =>
    new MultipartParseError(`Part ${part} is larger than ${maxPartBytes} bytes (${size})`);

  // After `--B`, a real delimiter goes on with CR, LF, "-" or padding; anything else means the
  // bytes merely start with the boundary ("--frame" inside "--frame2").
  const isDelimiterEnd = (byte: number) =>
    byte === CR || byte === LF || byte === DASH || byte === SPACE || byte === TAB;

  /**
   * Consumes what follows `--B`: true when a part follows, false after the close delimiter (or,
   * non-strict, at the end of the stream).
   */
  const afterBoundary = async (): Promise<boolean> => {
    if (!strict) {
      // Transport padding: RFC 2046 allows whitespace before the CRLF.
      for (;;) {
        if (!await ensure(1)) return false;
        const b = queue.at(0);
        if (b !== SPACE && b !== TAB) break;
        queue.consume(1);
      }
    }
    if (!await ensure(2)) return endedInside(part + 1);
    const a = queue.at(0);
    const b = queue.at(1);
    if (a === DASH && b === DASH) {
      // The close delimiter; an epilogue after it is ignored.
      queue.consume(2);
      return false;
    }
    if (a === CR && b === LF) {
      queue.consume(2);
      return true;
    }
    if (!strict && a === LF) {
      queue.consume(1);
      return true;
    }
    throw new MultipartParseError(
      `Boundary before part ${part + 1} is not followed by CRLF or "--"`,
    );
  };

  /**
   * Non-strict resynchronisation: discards bytes up to the next line that starts with `--B` and
   * consumes that `--B`; the queue's first byte counts as a line start when `atLineStart`. False
   * when the stream ends first.
   */
  const skipToBoundary = async (atLineStart: boolean): Promise<boolean> => {
    if (atLineStart && await ensure(dashBoundary.length + 1) && queue.matches(0, dashBoundary)) {
      if (isDelimiterEnd(queue.at(dashBoundary.length))) {
        queue.consume(dashBoundary.length);
        return true;
      }
    }
    let from = 0;
    for (;;) {
      const found = queue.indexOf(lfDelimiter, from);
      if (found >= 0) {
        const after = found + lfDelimiter.length;
        if (!await ensure(after + 1)) return false;
        if (isDelimiterEnd(queue.at(after))) {
          queue.consume(after);
          return true;
        }
        from = found + 1;
        continue;
      }
      // Keep only what may be the start of a delimiter, so an endless preamble costs no memory.
      const keep = lfDelimiter.length - 1;
      if (queue.length > keep) queue.consume(queue.length - keep);
      from = 0;
      if (!await fill()) return false;
    }
  };

  /** Non-strict: whether the stream starts with a `Name: value` line rather than a boundary. */
  const startsWithHeaderLine = async (): Promise<boolean> => {
    let scanFrom = 0;
    for (;;) {
      const lf = queue.indexOf(LF_PATTERN, scanFrom);
      if (lf >= 0 || queue.length >= maxHeaderBytes) {
        if (queue.matches(0, dashBoundary)) return false;
        return HEADER_LINE_START.test(queue.latin1(0, lf >= 0 ? lf : queue.length));
      }
      scanFrom = queue.length;
      if (!await fill()) return false;
    }
  };

  const addHeader = (headers: Headers, line: string): void => {
    const colon = line.indexOf(":");
    const rawName = colon > 0 ? line.slice(0, colon) : "";
    const name = strict ? rawName : rawName.trim();
    if (!TOKEN.test(name)) {
      // Non-strict: junk lines (and obsolete header folding) are ignored.
      if (!strict) return;
      throw new MultipartParseError(
        `Header line ${JSON.stringify(line)} of part ${part} is not "Name: value"`,
      );
    }
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch (error) {
      if (!strict) return;
      throw new MultipartParseError(
        `Header line ${JSON.stringify(line)} of part ${part} is not a valid header`,
        { cause: error },
      );
    }
  };

  /** Reads a header block; null when the stream ended inside it (non-strict). */
  const readHeaders = async (): Promise<Headers | null> => {
    const headers = new Headers();
    let lineStart = 0;
    let scanFrom = 0;
    for (;;) {
      const lf = queue.indexOf(LF_PATTERN, scanFrom);
      if (lf < 0 || lf >= maxHeaderBytes) {
        if (queue.length >= maxHeaderBytes) {
          throw new MultipartParseError(
            `Header block of part ${part} is longer than ${maxHeaderBytes} bytes`,
          );
        }
        scanFrom = queue.length;
        if (!await fill()) {
          endedInside(part);
          return null;
        }
        continue;
      }
      let lineEnd = lf;
      if (lf > lineStart && queue.at(lf - 1) === CR) {
        lineEnd = lf - 1;
      } else if (strict) {
        throw new MultipartParseError(`Header line of part ${part} does not end with CRLF`);
      }
      const line = queue.latin1(lineStart, lineEnd);
      lineStart = scanFrom = lf + 1;
      if (line.length === 0) {
        queue.consume(lineStart);
        return headers;
      }
      addHeader(headers, line);
    }
  };

  /** The part's Content-Length; null when absent (or, non-strict, unusable). */
  const contentLength = (headers: Headers): number | null => {
    const value = headers.get("content-length");
    if (value === null) return null;
    if (/^\d+$/.test(value)) return Number(value);
    if (!strict) return null;
    throw new MultipartParseError(
      `Part ${part} has an invalid Content-Length ${JSON.stringify(value)}`,
    );
  };

  /** Reads exactly `length` body bytes, copying each once; null when the stream ends first. */
  const readExactly = async (length: number): Promise<Uint8Array | null> => {
    if (queue.length >= length) {
      const body = queue.copy(0, length);
      queue.consume(length);
      return body;
    }
    // Copy straight from the incoming chunks into the body, bypassing the queue.
    const body = new Uint8Array(length);
    let have = queue.length;
    queue.drainInto(body, have);
    while (have < length) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        return null;
      }
      const take = Math.min(value.length, length - have);
      body.set(value.subarray(0, take), have);
      have += take;
      if (take < value.length) queue.push(value.subarray(take));
    }
    return body;
  };

  /**
   * Non-strict: reads a body that ends at `\r\n--B` or `\n--B` and consumes the delimiter. Null
   * when the stream ends first.
   */
  const readDelimited = async (): Promise<Uint8Array | null> => {
    // An empty body may have no line break before the boundary at all.
    const full = await ensure(dashBoundary.length + 1);
    if (
      queue.matches(0, dashBoundary) && (!full || isDelimiterEnd(queue.at(dashBoundary.length)))
    ) {
      queue.consume(dashBoundary.length);
      return new Uint8Array(0);
    }
    if (!full) return null;
    let from = 0;
    for (;;) {
      const found = queue.indexOf(lfDelimiter, from);
      if (found >= 0) {
        const after = found + lfDelimiter.length;
        // A stream that ends right after the delimiter still delimits a complete body.
        if (!await ensure(after + 1) || isDelimiterEnd(queue.at(after))) {
          const end = found > 0 && queue.at(found - 1) === CR ? found - 1 : found;
          if (end > maxPartBytes) throw tooLarge(end);
          const body = queue.copy(0, end);
          queue.consume(after);
          return body;
        }
        from = found + 1;
        continue;
      }
      // The body so far plus a partial delimiter; past that the part is too large.
      if (queue.length > maxPartBytes + crlfDelimiter.length) throw tooLarge(queue.length);
      from = Math.max(0, queue.length - lfDelimiter.length + 1);
      if (!await fill()) return null;
    }
  };

  /** After a Content-Length body: the delimiter, then what follows it. */
  const expectDelimiter = async (): Promise<boolean> => {
    if (strict) {
      if (!await ensure(crlfDelimiter.length)) {
        throw new MultipartParseError(`Stream ended after part ${part} without a boundary`);
      }
      if (!queue.matches(0, crlfDelimiter)) {
        throw new MultipartParseError(`Part ${part} is not followed by the boundary`);
      }
      queue.consume(crlfDelimiter.length);
      return afterBoundary();
    }
    // Non-strict: tolerate stray line breaks, then resynchronise on the next boundary line.
    for (;;) {
      if (!await ensure(1)) return false;
      const b = queue.at(0);
      if (b !== CR && b !== LF) break;
      queue.consume(1);
    }
    return await skipToBoundary(true) && await afterBoundary();
  };

  let finished = false;
  try {
    let more: boolean;
    if (strict) {
      if (!await ensure(dashBoundary.length)) {
        throw new MultipartParseError("Stream ended before the first boundary");
      }
      if (!queue.matches(0, dashBoundary)) {
        throw new MultipartParseError(
          `Stream does not start with the boundary ${JSON.stringify(`--${boundary}`)}`,
        );
      }
      queue.consume(dashBoundary.length);
      more = await afterBoundary();
    } else if (await startsWithHeaderLine()) {
      // The Flask seed's form: the first part has no opening boundary.
      more = true;
    } else {
      more = await skipToBoundary(true) && await afterBoundary();
    }

    while (more) {
      part++;
      const headers = await readHeaders();
      if (headers === null) break;
      const length = contentLength(headers);
      if (length !== null) {
        if (length > maxPartBytes) throw tooLarge(length);
        const body = await readExactly(length);
        if (body === null) {
          endedInside(part);
          break;
        }
        // Yield before looking for the delimiter: a server that writes its boundary just before
        // the next frame would otherwise hold every frame back by one frame interval.
        yield { headers, body };
        more = await expectDelimiter();
      } else {
        if (strict) throw new MultipartParseError(`Part ${part} has no Content-Length`);
        const body = await readDelimited();
        if (body === null) break;
        if (body.length === 0) {
          // A header block sent ahead for a frame that never came, right before the close
          // delimiter, is not a part anyone wants.
          more = await afterBoundary();
          if (!more) break;
          yield { headers, body };
          continue;
        }
        yield { headers, body };
        more = await afterBoundary();
      }
    }
    finished = true;
  } finally {
    // Stopped early, failed, or closed before the end: the rest of the stream is not wanted.
    if (!finished || !ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * A part's body without the line breaks some servers put after the JPEG (the seed's
 * `\r\n\r\n--frame`): a JPEG ends with its EOI marker, never with CR or LF.
 */
export function trimTrailingNewlines(body: Uint8Array): Uint8Array {
  let end = body.byteLength;
  while (end > 0 && (body[end - 1] === 0x0a || body[end - 1] === 0x0d)) end--;
  return end === body.byteLength ? body : body.subarray(0, end);
}
