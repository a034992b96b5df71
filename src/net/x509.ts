/**
 * The few fields of an X.509 certificate (RFC 5280) that tuchuan checks before serving HTTPS:
 * its version, its validity dates and its public key. A small DER walk, not a general ASN.1
 * library: `Certificate → tbsCertificate → [version], serial, signature, issuer, validity,
 * subject, subjectPublicKeyInfo`, and nothing past that.
 *
 * @module
 */
import {
  DerError,
  expectTlv as expect,
  integerBits,
  oidText,
  readTlv as tlv,
  TAG,
  type Tlv,
} from "./der.ts";

export { DerError };

/** A public key: what a certificate's `SubjectPublicKeyInfo` says, with a name for messages. */
export interface PublicKeyInfo {
  /** The algorithm's object identifier, dotted (`1.2.840.113549.1.1.1` is RSA). */
  readonly algorithm: string;
  /** For elliptic-curve keys, the named curve's object identifier. */
  readonly curve?: string;
  /** For RSA keys, the modulus length in bits. */
  readonly bits?: number;
  /** `RSA 2048-bit`, `EC P-256`, `Ed25519`, or the identifier for others. */
  readonly name: string;
  /**
   * The key itself, the `subjectPublicKey` bits: for RSA the DER of `RSAPublicKey` (modulus and
   * exponent), for EC the point, for EdDSA the public key bytes.
   */
  readonly key: Uint8Array;
}

/** What tuchuan reads of a certificate. */
export interface Certificate {
  /** 1, 2 or 3 (the DER holds one less). */
  readonly version: number;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
}

/** Object identifiers tuchuan names. */
export const OID = {
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsaPss: "1.2.840.113549.1.1.10",
  ecPublicKey: "1.2.840.10045.2.1",
  dsa: "1.2.840.10040.4.1",
  ed25519: "1.3.101.112",
  ed448: "1.3.101.113",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  p521: "1.3.132.0.35",
} as const;

const NAMES: Record<string, string> = {
  [OID.rsaEncryption]: "RSA",
  [OID.rsaPss]: "RSA-PSS",
  [OID.ecPublicKey]: "EC",
  [OID.dsa]: "DSA",
  [OID.ed25519]: "Ed25519",
  [OID.ed448]: "Ed448",
  [OID.p256]: "P-256",
  [OID.p384]: "P-384",
  [OID.p521]: "P-521",
  "1.3.132.0.10": "secp256k1",
};

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/;

/**
 * A validity time: UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049 as RFC 5280 §4.1.2.5.1 says) or
 * GeneralizedTime (`YYYYMMDDHHMMSSZ`, for 2050 and later).
 */
function parseTime(b: Uint8Array, e: Tlv, what: string): Date {
  // Both forms are 13 to 23 characters; the bound also keeps the spread below small.
  if (e.end - e.start > 32) throw new DerError(`${what} is too long for a time`);
  const text = String.fromCharCode(...b.subarray(e.start, e.end));
  const m = e.tag === TAG.utcTime
    ? UTC_TIME.exec(text)
    : e.tag === TAG.generalizedTime
    ? GENERALIZED_TIME.exec(text)
    : null;
  if (!m) throw new DerError(`${what} is not a UTCTime or GeneralizedTime ("${text}")`);
  let year = Number(m[1]);
  if (e.tag === TAG.utcTime) year += year >= 50 ? 1900 : 2000;
  const [month, day, hour, minute, second] = m.slice(2, 7).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  // Date.UTC rolls 31 February over into March; a real date comes back unchanged.
  if (
    d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day ||
    hour > 23 || minute > 59 || second > 59
  ) {
    throw new DerError(`${what} is not a real date ("${text}")`);
  }
  return d;
}

/** Reads a `SubjectPublicKeyInfo` (the whole of `der`). */
export function parsePublicKeyInfo(der: Uint8Array): PublicKeyInfo {
  return publicKeyAt(der, expect(der, 0, der.length, TAG.sequence, "The public key"));
}

function publicKeyAt(b: Uint8Array, spki: Tlv): PublicKeyInfo {
  const what = "The public key";
  const alg = expect(b, spki.start, spki.end, TAG.sequence, `${what}'s algorithm`);
  const algOid = expect(b, alg.start, alg.end, TAG.oid, `${what}'s algorithm`);
  let curve: string | undefined;
  if (algOid.end < alg.end) {
    // The parameters: for EC a named curve's identifier (explicit curve parameters are unnamed).
    const params = tlv(b, algOid.end, alg.end, `${what}'s parameters`);
    if (params.tag === TAG.oid) curve = oidText(b, params);
  }
  const bits = expect(b, alg.end, spki.end, TAG.bitString, `${what}'s bits`);
  if (bits.end === bits.start) throw new DerError(`${what}'s bits are empty`);
  return describeKey(oidText(b, algOid), curve, b.slice(bits.start + 1, bits.end));
}

/** A key's name for messages: `RSA 2048-bit`, `EC P-256`, `Ed25519`, or its identifier. */
export function keyName(algorithm: string, curve?: string, bits?: number): string {
  const kind = NAMES[algorithm] ?? `of algorithm ${algorithm}`;
  if (bits !== undefined) return `${kind} ${bits}-bit`;
  if (algorithm !== OID.ecPublicKey) return kind;
  return `${kind} ${curve === undefined ? "(curve not named)" : NAMES[curve] ?? curve}`;
}

function describeKey(algorithm: string, curve: string | undefined, key: Uint8Array): PublicKeyInfo {
  let bits: number | undefined;
  if (algorithm === OID.rsaEncryption) {
    const what = "The RSA public key";
    const rsa = expect(key, 0, key.length, TAG.sequence, what);
    bits = integerBits(key, expect(key, rsa.start, rsa.end, TAG.integer, `${what}'s modulus`));
  }
  const ec = algorithm === OID.ecPublicKey;
  return {
    algorithm,
    curve: ec ? curve : undefined,
    bits,
    name: keyName(algorithm, curve, bits),
    key,
  };
}

/** True for an EC key whose point is written compressed (`02`/`03` and x, RFC 5480 §2.2). */
export function isCompressedPoint(k: PublicKeyInfo): boolean {
  return k.algorithm === OID.ecPublicKey && (k.key[0] === 2 || k.key[0] === 3);
}

/** Reads a certificate's version, validity and public key. Throws `DerError` when malformed. */
export function parseCertificate(der: Uint8Array): Certificate {
  const cert = expect(der, 0, der.length, TAG.sequence, "The certificate");
  if (cert.end !== der.length) throw new DerError("The certificate has bytes after its end");
  const tbs = expect(der, cert.start, cert.end, TAG.sequence, "The certificate's body");
  let at = tbs.start;
  let version = 1;
  const first = tlv(der, at, tbs.end, "The certificate's version");
  if (first.tag === TAG.context0) {
    const v = expect(der, first.start, first.end, TAG.integer, "The certificate's version");
    if (v.end - v.start !== 1) throw new DerError("The certificate's version is malformed");
    version = der[v.start] + 1;
    at = first.end;
  }
  // serialNumber, signature (AlgorithmIdentifier), issuer (Name): skipped.
  at = expect(der, at, tbs.end, TAG.integer, "The certificate's serial number").end;
  at = expect(der, at, tbs.end, TAG.sequence, "The certificate's signature algorithm").end;
  at = expect(der, at, tbs.end, TAG.sequence, "The certificate's issuer").end;
  const validity = expect(der, at, tbs.end, TAG.sequence, "The certificate's validity");
  const nb = tlv(der, validity.start, validity.end, "The certificate's notBefore");
  const na = tlv(der, nb.end, validity.end, "The certificate's notAfter");
  const notBefore = parseTime(der, nb, "The certificate's notBefore");
  const notAfter = parseTime(der, na, "The certificate's notAfter");
  at = expect(der, validity.end, tbs.end, TAG.sequence, "The certificate's subject").end;
  const spki = expect(der, at, tbs.end, TAG.sequence, "The certificate's public key");
  return { version, notBefore, notAfter, publicKey: publicKeyAt(der, spki) };
}
