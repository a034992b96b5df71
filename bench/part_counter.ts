/**
 * A cheap, strict counter of the parts of a tuchuan `/stream` (normal framing), for load runs
 * with more viewers than the full parser can keep up with on a shared 2-core machine.
 *
 * The load client's default path runs every part through the project's multipart reader, which
 * copies each body and builds a `Headers` per part: ~130 µs of client CPU per part here, so 500
 * viewers at 30 fps would need two cores for the client alone. This counter checks the same
 * things tuchuan promises a non-browser client, without copying a byte of the JPEGs:
 *
 *     --B  \r\nContent-Type: image/jpeg\r\nContent-Length: N\r\nX-Timestamp: S\r\n\r\n  <N bytes>  \r\n--B ...  --\r\n
 *
 * the opening boundary, CRLF header lines with a Content-Length, exactly N body bytes from SOI
 * (FFD8) to EOI (FFD9), and the delimiter right after each body. Anything else is a framing error
 * (thrown): a strict client would fail the same stream.
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
const DASH = 0x2d;

// States; plain numbers keep the hot loop an integer switch.
const OPEN = 0;
const AFTER_DELIMITER = 1;
const HEAD = 2;
const BODY = 3;
const DELIMITER = 4;
const ENDED = 5;

/** One part as counted. */
export interface CountedPart {
  /** Body length (the JPEG). */
  readonly bytes: number;
  /** Why it is not a complete JPEG, or null. */
  readonly bad: string | null;
  /** Its `X-Timestamp` in epoch milliseconds, when present. */
  readonly timestampMs: number | undefined;
}

/** A stream that breaks tuchuan's normal framing. */
export class FramingError extends Error {
  /** @param message says what was expected */
  constructor(message: string) {
    super(message);
    this.name = "FramingError";
  }
}

/** The incremental counter: feed it the de-chunked body bytes with {@link PartCounter.push}. */
export class PartCounter {
  readonly #delimiter: Uint8Array;
  readonly #onPart: (part: CountedPart) => void;
  readonly #maxHeaderBytes: number;
  #state = OPEN;
  /** Bytes of the boundary (OPEN) or delimiter (DELIMITER) matched so far. */
  #matched = 0;
  /** AFTER_DELIMITER: the first of the two bytes after `--B`, or -1. */
  #after = -1;
  #head: Uint8Array;
  #headLength = 0;
  /** CR/LF run at the end of the header block: 4 means CRLFCRLF. */
  #crlf = 0;
  #remaining = 0;
  #bodyLength = 0;
  #contentType = "";
  #timestampMs: number | undefined;
  #first0 = -1;
  #first1 = -1;
  #last0 = -1;
  #last1 = -1;

  /** Counts the parts of a stream with `boundary`; `onPart` hears each complete part. */
  constructor(boundary: string, onPart: (part: CountedPart) => void, maxHeaderBytes = 16 * 1024) {
    if (!boundary) throw new TypeError("Boundary must not be empty");
    this.#delimiter = new TextEncoder().encode(`\r\n--${boundary}`);
    this.#onPart = onPart;
    this.#maxHeaderBytes = maxHeaderBytes;
    this.#head = new Uint8Array(Math.min(1024, maxHeaderBytes));
  }

  /** True once the close delimiter `--B--` has been read. */
  get ended(): boolean {
    return this.#state === ENDED;
  }

  /** Consumes `data` (a view it does not keep); throws {@link FramingError} on broken framing. */
  push(data: Uint8Array): void {
    let i = 0;
    const n = data.length;
    while (i < n) {
      switch (this.#state) {
        case OPEN: {
          // The opening boundary is the delimiter without its leading CRLF.
          if (data[i++] !== this.#delimiter[this.#matched + 2]) {
            throw new FramingError("the stream does not start with --boundary");
          }
          if (++this.#matched === this.#delimiter.length - 2) this.#toAfterDelimiter();
          break;
        }
        case DELIMITER: {
          if (data[i++] !== this.#delimiter[this.#matched]) {
            throw new FramingError(`no delimiter right after a ${this.#bodyLength}-byte body`);
          }
          if (++this.#matched === this.#delimiter.length) this.#toAfterDelimiter();
          break;
        }
        case AFTER_DELIMITER: {
          const b = data[i++];
          if (this.#after < 0) {
            if (b !== CR && b !== DASH) throw new FramingError("junk after a delimiter");
            this.#after = b;
          } else if (this.#after === CR && b === LF) {
            this.#toHead();
          } else if (this.#after === DASH && b === DASH) {
            this.#state = ENDED;
            return;
          } else {
            throw new FramingError("junk after a delimiter");
          }
          break;
        }
        case HEAD: {
          const b = data[i++];
          if (this.#headLength === this.#head.length) {
            if (this.#head.length >= this.#maxHeaderBytes) {
              throw new FramingError(`a part header over ${this.#maxHeaderBytes} bytes`);
            }
            const grown = new Uint8Array(Math.min(this.#head.length * 2, this.#maxHeaderBytes));
            grown.set(this.#head);
            this.#head = grown;
          }
          this.#head[this.#headLength++] = b;
          if (b === CR) this.#crlf = this.#crlf === 0 || this.#crlf === 2 ? this.#crlf + 1 : 1;
          else if (b === LF && (this.#crlf === 1 || this.#crlf === 3)) this.#crlf++;
          else this.#crlf = 0;
          if (this.#crlf === 4) this.#toBody();
          break;
        }
        case BODY: {
          const take = Math.min(this.#remaining, n - i);
          const start = this.#bodyLength - this.#remaining;
          if (start === 0 && take > 0) this.#first0 = data[i];
          if (start <= 1 && start + take > 1) this.#first1 = data[i + 1 - start];
          if (take >= 2) {
            this.#last0 = data[i + take - 2];
            this.#last1 = data[i + take - 1];
          } else if (take === 1) {
            this.#last0 = this.#last1;
            this.#last1 = data[i];
          }
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#endPart();
          break;
        }
        case ENDED:
          return; // Bytes after the close delimiter belong to no part.
      }
    }
  }

  #toAfterDelimiter(): void {
    this.#state = AFTER_DELIMITER;
    this.#after = -1;
    this.#matched = 0;
  }

  #toHead(): void {
    this.#state = HEAD;
    this.#headLength = 0;
    // The CRLF after the delimiter ends the (empty) line before the first header line.
    this.#crlf = 2;
  }

  #toBody(): void {
    const text = String.fromCharCode(...this.#head.subarray(0, this.#headLength - 4));
    let length = NaN;
    this.#contentType = "";
    this.#timestampMs = undefined;
    for (const line of text.split("\r\n")) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new FramingError(`bad part header line ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = /^\d+$/.test(value) ? Number(value) : NaN;
      else if (name === "content-type") this.#contentType = value;
      else if (name === "x-timestamp") {
        const s = Number(value);
        this.#timestampMs = Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
      }
    }
    if (!Number.isSafeInteger(length)) {
      throw new FramingError("a part without a valid Content-Length");
    }
    this.#bodyLength = length;
    this.#remaining = length;
    this.#first0 = this.#first1 = -1;
    this.#last0 = this.#last1 = -1;
    this.#state = BODY;
    if (length === 0) this.#endPart();
  }

  #endPart(): void {
    let bad: string | null = null;
    if (this.#contentType.split(";")[0].trim().toLowerCase() !== "image/jpeg") {
      bad = `content-type ${JSON.stringify(this.#contentType)}`;
    } else if (this.#bodyLength < 4 || this.#first0 !== 0xff || this.#first1 !== 0xd8) {
      bad = "does not start with FFD8";
    } else if (this.#last0 !== 0xff || this.#last1 !== 0xd9) {
      bad = "does not end with FFD9";
    }
    this.#onPart({ bytes: this.#bodyLength, bad, timestampMs: this.#timestampMs });
    this.#state = DELIMITER;
    this.#matched = 0;
  }
}
