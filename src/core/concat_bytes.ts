/**
 * Joins byte chunks read from a stream into one buffer: the tail of every bounded read (a
 * response body, an IP camera's snapshot).
 *
 * @module
 */

/** One buffer holding `chunks` in order; a single chunk comes back as it is, not copied. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
