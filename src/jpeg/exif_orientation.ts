/**
 * Orientation without re-encoding: an EXIF APP1 segment carrying only the `Orientation` tag,
 * put right after a JPEG's SOI marker. Browsers turn the picture as it says (CSS
 * `image-orientation: from-image` is the default), so a passed-through camera frame can be
 * rotated for the price of 34 bytes. No thumbnail is written: clients such as Home Assistant cut
 * a frame from the first SOI to the first EOI, which a thumbnail's own markers would break.
 *
 * @module
 */

/** EXIF `Orientation` values, 1..8 (see `exifOrientation` in core/orientation.ts). */
export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** The APP1 segment for `value`: `Exif\0\0`, a little-endian TIFF header and one IFD entry. */
export function exifSegment(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 1 || value > 8) {
    throw new RangeError(`EXIF orientation must be an integer from 1 to 8, got ${value}`);
  }
  return new Uint8Array([
    0xff,
    0xe1,
    0x00,
    0x22, // APP1, length 34 (counts itself, not the marker)
    0x45,
    0x78,
    0x69,
    0x66,
    0x00,
    0x00, // "Exif\0\0"
    0x49,
    0x49,
    0x2a,
    0x00,
    0x08,
    0x00,
    0x00,
    0x00, // "II", 42, IFD0 at offset 8
    0x01,
    0x00, // one entry
    0x12,
    0x01,
    0x03,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00, // tag 0x0112 Orientation, SHORT, count 1
    value,
    0x00,
    0x00,
    0x00, // the value, padded to four bytes
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  ]);
}

/**
 * `jpeg` with an Orientation segment right after its SOI. Returns the input unchanged for
 * value 1 (upright) and for bytes that do not start with an SOI marker.
 */
export function withExifOrientation(jpeg: Uint8Array, value: number): Uint8Array {
  if (value === 1 || jpeg.byteLength < 2 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return jpeg;
  const segment = exifSegment(value);
  const out = new Uint8Array(jpeg.byteLength + segment.byteLength);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.byteLength);
  return out;
}

/**
 * The EXIF Orientation of a JPEG (1 when it has none): walks the marker segments up to the first
 * scan and reads the tag from the first `Exif` APP1, in either byte order.
 */
export function readExifOrientation(jpeg: Uint8Array): number {
  let pos = 2;
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return 1;
  while (pos + 4 <= jpeg.byteLength) {
    if (jpeg[pos] !== 0xff) return 1;
    const marker = jpeg[pos + 1];
    if (marker === 0xda || marker === 0xd9) return 1;
    const length = (jpeg[pos + 2] << 8) | jpeg[pos + 3];
    const body = pos + 4;
    if (
      marker === 0xe1 && length >= 16 && jpeg[body] === 0x45 && jpeg[body + 1] === 0x78 &&
      jpeg[body + 2] === 0x69 && jpeg[body + 3] === 0x66
    ) {
      return orientationFromTiff(jpeg.subarray(body + 6, pos + 2 + length));
    }
    pos += 2 + length;
  }
  return 1;
}

function orientationFromTiff(tiff: Uint8Array): number {
  if (tiff.byteLength < 8) return 1;
  const little = tiff[0] === 0x49;
  const u16 = (o: number) => little ? tiff[o] | (tiff[o + 1] << 8) : (tiff[o] << 8) | tiff[o + 1];
  const u32 = (o: number) => little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2);
  const ifd = u32(4);
  if (ifd + 2 > tiff.byteLength) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.byteLength) return 1;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
