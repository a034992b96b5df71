/**
 * What kind of key a PEM private key is (`RSA 2048-bit`, `EC P-256`, `Ed25519`), read from its
 * DER in the three forms Deno's TLS takes: PKCS#8 (`PRIVATE KEY`, RFC 5958), PKCS#1
 * (`RSA PRIVATE KEY`, RFC 8017) and SEC1 (`EC PRIVATE KEY`, RFC 5915). Only for messages: whether
 * the key belongs to the certificate is asked of Deno's TLS itself (see tls_files.ts).
 *
 * @module
 */
import { children, DerError, expectTlv, integerBits, oidText, TAG, type Tlv } from "./der.ts";
import type { PemBlock } from "./pem.ts";
import { keyName, OID } from "./x509.ts";

/** A private key's type, as a certificate's key would be described. */
export interface PrivateKeyKind {
  /** The algorithm's object identifier, dotted. */
  readonly algorithm: string;
  /** For EC keys, the named curve's identifier, when the key names it. */
  readonly curve?: string;
  /** For RSA keys, the modulus length in bits. */
  readonly bits?: number;
  /** `RSA 2048-bit`, `EC P-256`, `Ed25519`... */
  readonly name: string;
}

function kind(algorithm: string, curve?: string, bits?: number): PrivateKeyKind {
  return { algorithm, curve, bits, name: keyName(algorithm, curve, bits) };
}

/** RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, ... }: the modulus size. */
function rsaBits(b: Uint8Array, seq: Tlv): number {
  const [version, modulus] = children(b, seq, "The RSA private key");
  if (version?.tag !== TAG.integer || modulus?.tag !== TAG.integer) {
    throw new DerError("The RSA private key is malformed");
  }
  return integerBits(b, modulus);
}

/** ECPrivateKey ::= SEQUENCE { version, privateKey, [0] curve OPTIONAL, [1] point OPTIONAL }. */
function sec1Curve(b: Uint8Array, seq: Tlv): string | undefined {
  const [version, secret, ...optional] = children(b, seq, "The EC private key");
  if (version?.tag !== TAG.integer || secret?.tag !== TAG.octetString) {
    throw new DerError("The EC private key is malformed");
  }
  const params = optional.find((f) => f.tag === TAG.context0);
  if (!params) return undefined;
  return oidText(b, expectTlv(b, params.start, params.end, TAG.oid, "The EC key's curve"));
}

/**
 * The kind of the private key in `block` (labelled `PRIVATE KEY`, `RSA PRIVATE KEY` or
 * `EC PRIVATE KEY`, not encrypted).
 *
 * @throws {DerError} when the key is malformed.
 */
export function privateKeyKind(block: PemBlock): PrivateKeyKind {
  const b = block.der;
  const top = expectTlv(b, 0, b.length, TAG.sequence, "The private key");
  if (top.end !== b.length) throw new DerError("The private key has bytes after its end");
  if (block.label === "RSA PRIVATE KEY") return kind(OID.rsaEncryption, undefined, rsaBits(b, top));
  if (block.label === "EC PRIVATE KEY") return kind(OID.ecPublicKey, sec1Curve(b, top));
  // PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, privateKey OCTET STRING, ... }
  const [version, alg, secret] = children(b, top, "The private key");
  if (
    version?.tag !== TAG.integer || alg?.tag !== TAG.sequence || secret?.tag !== TAG.octetString
  ) {
    throw new DerError("The private key is not PKCS#8");
  }
  const [algOid, params] = children(b, alg, "The private key's algorithm");
  if (algOid?.tag !== TAG.oid) throw new DerError("The private key's algorithm is malformed");
  const algorithm = oidText(b, algOid);
  const inner = () => expectTlv(b, secret.start, secret.end, TAG.sequence, "The private key");
  switch (algorithm) {
    case OID.rsaEncryption:
      return kind(algorithm, undefined, rsaBits(b, inner()));
    case OID.ecPublicKey:
      return kind(
        algorithm,
        params?.tag === TAG.oid ? oidText(b, params) : sec1Curve(b, inner()),
      );
    default:
      return kind(algorithm);
  }
}
