/**
 * The X.509 walk on certificates built here byte by byte: both time encodings with RFC 5280's
 * century rule, version 1 and 3, key names, and malformed DER always a `DerError` (never a
 * `RangeError` from reading past the end, nor a wrong date).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DerError,
  isCompressedPoint,
  keyName,
  OID,
  parseCertificate,
  parsePublicKeyInfo,
} from "../src/net/x509.ts";

// A tiny DER writer, enough for the certificates below.
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = len < 128
    ? [tag, len]
    : len < 256
    ? [tag, 0x81, len]
    : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const bytes = (...b: number[]) => new Uint8Array(b);
const text = (tag: number, s: string) => tlv(tag, new TextEncoder().encode(s));
const utc = (s: string) => text(0x17, s);
const gen = (s: string) => text(0x18, s);

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) {
      groups.unshift((v & 0x7f) | 0x80);
    }
    out.push(...groups);
  }
  return tlv(0x06, new Uint8Array(out));
}

function ecKey(point: Uint8Array, curve: string = OID.p256): Uint8Array {
  return seq(seq(oid(OID.ecPublicKey), oid(curve)), tlv(0x03, bytes(0), point));
}

function rsaKey(modulusBytes: number): Uint8Array {
  const n = new Uint8Array(modulusBytes + 1).fill(0xab);
  n[0] = 0; // keeps it positive
  const rsa = seq(tlv(0x02, n), tlv(0x02, bytes(1, 0, 1)));
  return seq(seq(oid(OID.rsaEncryption), tlv(0x05)), tlv(0x03, bytes(0), rsa));
}

const POINT = new Uint8Array(65).fill(7);
POINT[0] = 4;

function cert(
  o: { notBefore?: Uint8Array; notAfter?: Uint8Array; v1?: boolean; key?: Uint8Array } = {},
): Uint8Array {
  const name = seq(tlv(0x31, seq(oid("2.5.4.3"), text(0x0c, "localhost"))));
  const alg = seq(oid("1.2.840.10045.4.3.2"));
  const tbs = seq(
    ...(o.v1 ? [] : [tlv(0xa0, tlv(0x02, bytes(2)))]),
    tlv(0x02, bytes(1, 2, 3)),
    alg,
    name,
    seq(o.notBefore ?? utc("250101000000Z"), o.notAfter ?? utc("260101000000Z")),
    name,
    o.key ?? ecKey(POINT),
  );
  return seq(tbs, alg, tlv(0x03, bytes(0, 1, 2, 3)));
}

Deno.test("x509: UTCTime years 50-99 are 19xx, 00-49 are 20xx; GeneralizedTime as written", () => {
  const c = parseCertificate(
    cert({ notBefore: utc("500101000000Z"), notAfter: utc("491231235959Z") }),
  );
  assert.equal(c.notBefore.toISOString(), "1950-01-01T00:00:00.000Z");
  assert.equal(c.notAfter.toISOString(), "2049-12-31T23:59:59.000Z");
  const g = parseCertificate(
    cert({ notBefore: gen("20491231235959Z"), notAfter: gen("20500101000000.25Z") }),
  );
  assert.equal(g.notBefore.toISOString(), "2049-12-31T23:59:59.000Z");
  assert.equal(g.notAfter.toISOString(), "2050-01-01T00:00:00.000Z");
});

Deno.test("x509: an impossible or non-UTC time is a DerError, not a rolled-over date", () => {
  for (
    const t of [
      utc("250231000000Z"), // 31 February
      utc("251301000000Z"), // month 13
      utc("250101240000Z"), // hour 24
      utc("2501010000Z"), // no seconds (RFC 5280 requires them)
      utc("250101000000+0100"), // local time
      gen("2025010100000Z"),
      text(0x04, "250101000000Z"), // not a time type
    ]
  ) {
    assert.throws(() => parseCertificate(cert({ notBefore: t })), DerError);
  }
});

Deno.test("x509: version 1 and 3, and key names for messages", () => {
  assert.equal(parseCertificate(cert()).version, 3);
  assert.equal(parseCertificate(cert({ v1: true })).version, 1);
  assert.equal(parseCertificate(cert()).publicKey.name, "EC P-256");
  assert.equal(parseCertificate(cert({ key: ecKey(POINT, OID.p384) })).publicKey.name, "EC P-384");
  const rsa = parseCertificate(cert({ key: rsaKey(256) })).publicKey;
  assert.equal(rsa.name, "RSA 2048-bit");
  assert.equal(rsa.bits, 2048);
  assert.equal(parsePublicKeyInfo(rsaKey(128)).name, "RSA 1024-bit");
  const ed = seq(seq(oid(OID.ed25519)), tlv(0x03, bytes(0), new Uint8Array(32)));
  assert.equal(parsePublicKeyInfo(ed).name, "Ed25519");
  const odd = seq(seq(oid("1.2.3.4.5.300000")), tlv(0x03, bytes(0, 1)));
  assert.equal(parsePublicKeyInfo(odd).name, "of algorithm 1.2.3.4.5.300000");
});

Deno.test("x509: the key's bits as written; a compressed EC point is told apart", () => {
  const a = parsePublicKeyInfo(ecKey(POINT));
  assert.deepEqual(a.key, POINT);
  assert.equal(keyName(OID.ecPublicKey), "EC (curve not named)");
  const packed = parsePublicKeyInfo(ecKey(POINT.slice(0, 33).fill(3, 0, 1)));
  assert.ok(isCompressedPoint(packed));
  assert.ok(!isCompressedPoint(a));
});

Deno.test("x509: every truncation and a stray trailing byte are DerErrors", () => {
  const whole = cert({ key: rsaKey(256) });
  for (let n = 0; n < whole.length; n++) {
    assert.throws(() => parseCertificate(whole.subarray(0, n)), DerError, `cut at ${n}`);
  }
  const longer = new Uint8Array(whole.length + 1);
  longer.set(whole);
  assert.throws(() => parseCertificate(longer), /bytes after its end/);
  // BER's indefinite length, which DER forbids.
  assert.throws(() => parseCertificate(bytes(0x30, 0x80, 0, 0)), /invalid length/);
});

Deno.test("x509: single-byte corruptions never throw anything but DerError", () => {
  const whole = cert();
  for (let i = 0; i < whole.length; i++) {
    for (const v of [0x00, 0x7f, 0x80, 0xff]) {
      const bad = whole.slice();
      bad[i] = v;
      try {
        parseCertificate(bad);
      } catch (err) {
        assert.ok(err instanceof DerError, `byte ${i} = ${v}: ${err}`);
      }
    }
  }
});
