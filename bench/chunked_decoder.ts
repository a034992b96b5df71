/**
 * Incremental decoder for HTTP/1.1 `Transfer-Encoding: chunked` bodies.
 *
 * Both servers send the stream chunked (werkzeug and Deno.serve both do for a body of unknown
 * length), and the load client parses HTTP itself to stay cheap with hundreds of connections, so
 * it needs this. Output slices are views into the input chunks: no copy on the hot path.
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
/** A chunk-size line longer than this is garbage, not HTTP. */
const MAX_SIZE_LINE = 1024;

// Decoder states; plain numbers keep the hot loop a cheap integer switch.
const SIZE = 0;
const DATA = 1;
const DATA_END = 2;
const TRAILER = 3;
const DONE = 4;

/** State machine over the raw body bytes; feed it with {@link ChunkedDecoder.push}. */
export class ChunkedDecoder {
  #state: number = SIZE;
  #line = "";
  #remaining = 0;
  #trailerLineLength = 0;

  /** True once the last (zero-size) chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /**
   * Consumes `input` and returns the payload bytes it contained (possibly none). Throws on a
   * malformed size line or a missing CRLF after a chunk.
   */
  push(input: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < input.length) {
      switch (this.#state) {
        case SIZE: {
          const b = input[i++];
          if (b === LF) {
            this.#startChunk();
          } else if (b !== CR) {
            this.#line += String.fromCharCode(b);
            if (this.#line.length > MAX_SIZE_LINE) throw new Error("chunk size line too long");
          }
          break;
        }
        case DATA: {
          const n = Math.min(this.#remaining, input.length - i);
          out.push(input.subarray(i, i + n));
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = DATA_END;
          break;
        }
        case DATA_END: {
          const b = input[i++];
          if (b === LF) this.#state = SIZE;
          else if (b !== CR) throw new Error("missing CRLF after chunk data");
          break;
        }
        case TRAILER: {
          const b = input[i++];
          if (b === LF) {
            if (this.#trailerLineLength === 0) this.#state = DONE;
            this.#trailerLineLength = 0;
          } else if (b !== CR) {
            this.#trailerLineLength++;
          }
          break;
        }
        case DONE:
          // Bytes after the end of the body belong to no one (Connection: close); ignore them.
          return out;
      }
    }
    return out;
  }

  #startChunk(): void {
    // Chunk extensions (";name=value") are legal and meaningless here.
    const hex = this.#line.split(";")[0].trim();
    this.#line = "";
    if (!/^[0-9a-fA-F]+$/.test(hex)) throw new Error(`bad chunk size line: ${JSON.stringify(hex)}`);
    const size = Number.parseInt(hex, 16);
    if (size === 0) {
      this.#state = TRAILER;
    } else {
      this.#remaining = size;
      this.#state = DATA;
    }
  }
}
