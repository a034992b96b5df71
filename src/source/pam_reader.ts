/**
 * Splits ffmpeg's `-c:v pam -f image2pipe` output into RGBA frames. PAM (the Netpbm "portable
 * arbitrary map") puts a short text header with the size before each image's raw pixels, so the
 * frames can be cut out however the pipe chunks them, with no advance knowledge of their size.
 *
 * @module
 */
import type { BufferPool } from "../core/buffer_pool.ts";
import { SourceError } from "./source.ts";

/** One RGBA image from the stream. */
export interface PamImage {
  width: number;
  height: number;
  /** `width * height * 4` bytes, taken from the pool when one is given. */
  data: Uint8Array;
}

/** Longest header accepted: a real one is about 70 bytes. */
const MAX_HEADER = 512;
const ENDHDR = "ENDHDR\n";

/**
 * Yields the RGBA images in `chunks`. Throws `SourceError` on a header that is not an RGBA PAM
 * image (ffmpeg was asked for one, so anything else is a bug or a broken pipe).
 */
export async function* pamImages(
  chunks: AsyncIterable<Uint8Array>,
  buffers?: BufferPool,
): AsyncGenerator<PamImage> {
  let header = "";
  let frame: Uint8Array | null = null;
  let filled = 0;
  let width = 0;
  let height = 0;
  const latin1 = new TextDecoder("latin1");
  for await (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (frame === null) {
        // Header: text up to and including "ENDHDR\n".
        const take = Math.min(chunk.byteLength - offset, MAX_HEADER - header.length + 16);
        const text = latin1.decode(chunk.subarray(offset, offset + take));
        const before = header.length;
        header += text;
        const end = header.indexOf(ENDHDR);
        if (end === -1) {
          if (header.length > MAX_HEADER) throw new SourceError("ffmpeg: bad PAM header");
          offset += take;
          continue;
        }
        offset += end + ENDHDR.length - before;
        ({ width, height } = parseHeader(header.slice(0, end)));
        header = "";
        const size = width * height * 4;
        frame = buffers?.take(size) ?? new Uint8Array(size);
        filled = 0;
      }
      const n = Math.min(frame.byteLength - filled, chunk.byteLength - offset);
      frame.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === frame.byteLength) {
        const data = frame;
        frame = null;
        yield { width, height, data };
      }
    }
  }
}

function parseHeader(text: string): { width: number; height: number } {
  const fields = new Map<string, string>();
  const lines = text.split("\n");
  if (lines[0] !== "P7") throw new SourceError("ffmpeg: not a PAM image");
  for (const line of lines.slice(1)) {
    const space = line.indexOf(" ");
    if (space > 0) fields.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  const width = Number(fields.get("WIDTH"));
  const height = Number(fields.get("HEIGHT"));
  if (
    !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 ||
    fields.get("DEPTH") !== "4" || fields.get("MAXVAL") !== "255"
  ) {
    throw new SourceError(`ffmpeg: unexpected PAM header ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { width, height };
}
