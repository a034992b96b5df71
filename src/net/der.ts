/**
 * Reading DER, the ASN.1 encoding of certificates and keys:
 * one tag-length-value element at a time, every length checked against what holds it, so a
 * truncated or hostile file is a `DerError` and never a read past the end.
 *
 * @module
 */

/** A certificate or key that is not the DER it should be. */
export class DerError extends Error {
  /** @param message says what is malformed; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DerError";
  }
}

/** The tags tuchuan reads. */
export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  /** `[0]` constructed (a certificate's version, an EC key's curve). */
  context0: 0xa0,
} as const;

/** One DER element: its tag and where its content lies. */
export interface Tlv {
  readonly tag: number;
  /** First content byte. */
  readonly start: number;
  /** One past the last content byte (where the next element starts). */
  readonly end: number;
}

/** Reads the element at `at` of `b`, which must end by `limit`; `what` names it in errors. */
export function readTlv(b: Uint8Array, at: number, limit: number, what: string): Tlv {
  if (at + 2 > limit) throw new DerError(`${what} is cut short`);
  const tag = b[at];
  if ((tag & 0x1f) === 0x1f) throw new DerError(`${what} has a multi-byte tag`);
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // 0x80 is BER's indefinite length, which DER forbids; four bytes is 4 GiB, past any file.
    if (n === 0 || n > 4) throw new DerError(`${what} has an invalid length`);
    if (start + n > limit) throw new DerError(`${what} is cut short`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError(`${what} is longer than what holds it`);
  return { tag, start, end };
}

/** Reads the element at `at` and checks that its tag is `tag`. */
export function expectTlv(
  b: Uint8Array,
  at: number,
  limit: number,
  tag: number,
  what: string,
): Tlv {
  const e = readTlv(b, at, limit, what);
  if (e.tag !== tag) {
    throw new DerError(`${what} has tag 0x${e.tag.toString(16)}, not 0x${tag.toString(16)}`);
  }
  return e;
}

/** The elements inside a constructed element, in order. */
export function children(b: Uint8Array, parent: Tlv, what: string): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1].end) {
    out.push(readTlv(b, at, parent.end, what));
  }
  return out;
}

/** An OBJECT IDENTIFIER's value, dotted (`1.2.840.10045.2.1`). */
export function oidText(b: Uint8Array, e: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = e.start; i < e.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError("An object identifier is too long");
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  if (parts.length === 0 || b[e.end - 1] & 0x80) {
    throw new DerError("An object identifier is malformed");
  }
  return parts.join(".");
}

/** Bit length of a DER INTEGER's value (a leading 0x00 only keeps it positive). */
export function integerBits(b: Uint8Array, e: Tlv): number {
  if (e.end === e.start) throw new DerError("An integer is empty");
  let i = e.start;
  while (i < e.end - 1 && b[i] === 0) i++;
  return (e.end - i - 1) * 8 + (32 - Math.clz32(b[i]));
}
