/**
 * A cheap structural check of a complete JPEG, run on every frame before it is served: corrupt or
 * truncated JPEGs are dropped, never sent to viewers.
 *
 * @module
 */

/** The dimensions of a JPEG that passed {@linkcode jpegInfo}. */
export interface JpegInfo {
  /** Width in pixels, greater than zero. */
  width: number;
  /** Height in pixels, greater than zero. */
  height: number;
}

// True for the start-of-frame markers that carry the image dimensions: SOF0-SOF3, SOF5-SOF7,
// SOF9-SOF11 and SOF13-SOF15. C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

/**
 * Checks the structure of a complete JPEG and returns its dimensions, or `null` when it is not one.
 *
 * It requires the SOI marker first, walks the marker segments by their lengths up to the first SOS,
 * requires a SOFn segment with a non-zero width and height on the way, and requires the EOI marker
 * as the last two bytes. The entropy-coded data is not scanned (this runs on every frame), so a
 * JPEG damaged only inside its scan data passes. Never throws.
 */
export function jpegInfo(bytes: Uint8Array): JpegInfo | null {
  const n = bytes.length;
  // SOI + a minimal SOS segment + EOI cannot fit in fewer bytes.
  if (n < 8 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  if (bytes[n - 2] !== 0xff || bytes[n - 1] !== 0xd9) return null;
  let width = 0;
  let height = 0;
  let pos = 2;
  while (pos < n) {
    if (bytes[pos] !== 0xff) return null;
    // Any number of 0xFF fill bytes may precede a marker.
    while (pos < n && bytes[pos] === 0xff) pos++;
    if (pos >= n) return null;
    const marker = bytes[pos];
    pos++;
    // Standalone markers (TEM, RSTn) have no length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    // A stuffed zero, a second SOI or an EOI before any scan: not a complete image.
    if (marker === 0x00 || marker === 0xd8 || marker === 0xd9) return null;
    if (pos + 2 > n) return null;
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2 || pos + length > n) return null;
    if (isStartOfFrame(marker)) {
      // Precision (1 byte), height (2), width (2), component count (1).
      if (length < 8) return null;
      height = (bytes[pos + 3] << 8) | bytes[pos + 4];
      width = (bytes[pos + 5] << 8) | bytes[pos + 6];
    } else if (marker === 0xda) {
      // The scan header must leave room for the EOI that ends the file.
      if (pos + length > n - 2 || width === 0 || height === 0) return null;
      return { width, height };
    }
    pos += length;
  }
  return null;
}
