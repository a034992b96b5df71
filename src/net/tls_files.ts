/**
 * `--tls-cert` and `--tls-key`: the PEM files read (each with a size bound) and checked before
 * the server listens, so that a wrong file is an error naming it and exit code 2, not a TLS
 * failure at the first browser.
 *
 * What Deno's own TLS (rustls) does with bad files, measured with Deno 2.9 (see
 * tests/tls_files_test.ts): a key that does not match and an unsupported key type make
 * `Deno.serve` throw errors that name neither file ("keys may not be consistent: KeyMismatch",
 * "failed to parse private key as RSA, ECDSA, or EdDSA"), an X.509 version 1 certificate gives
 * "UnsupportedCertVersion", and an expired or not-yet-valid certificate is served without a word,
 * so that every browser refuses the page. Each of these is caught here first.
 *
 * The certificate's dates, version and key type come from a small X.509 walk (x509.ts); whether
 * the key belongs to the certificate is asked of Deno's TLS itself, through the same check it
 * makes when it listens, so that what passes here is what `Deno.serve` takes.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { FileReadError, readFileBounded } from "../core/read_bounded.ts";
import { type PemBlock, pemBlocks, PemError } from "./pem.ts";
import { privateKeyKind } from "./private_key.ts";
import {
  type Certificate,
  DerError,
  isCompressedPoint,
  OID,
  parseCertificate,
  type PublicKeyInfo,
} from "./x509.ts";

/** Largest PEM file accepted (a long chain is a few KB). */
const MAX_PEM_BYTES = 1024 * 1024;

/** The PEM labels Deno's TLS takes as a private key (PKCS#8, PKCS#1 RSA, SEC1 EC). */
const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

/** The key types Deno's TLS serves with (measured: RSA 1024, RSA-PSS, DSA, Ed448 fail). */
const SUPPORTED = "RSA of 2048 bits or more, EC P-256, P-384 or P-521, or Ed25519";

/** The certificate chain and key, as PEM text: exactly the blocks that were checked. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

/** Where an error points: the flag and the file given to it. */
interface Given {
  readonly flag: "--tls-cert" | "--tls-key";
  readonly path: string;
}

function fail(given: Given, reason: string, cause?: unknown): InputError {
  return new InputError(`Invalid ${given.flag} ${given.path}: ${reason}`, {
    cause,
    flag: given.flag,
  });
}

/** The file's PEM blocks; an `InputError` when it cannot be read or is not PEM. */
function readBlocks(given: Given, what: string, convert: string): PemBlock[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(given.path, MAX_PEM_BYTES, what);
  } catch (cause) {
    if (cause instanceof FileReadError) {
      throw new InputError(`Invalid ${given.flag}: ${cause.message}`, {
        cause,
        flag: given.flag,
      });
    }
    throw cause;
  }
  let blocks: PemBlock[];
  try {
    blocks = pemBlocks(new TextDecoder().decode(bytes));
  } catch (cause) {
    if (cause instanceof PemError) throw fail(given, cause.message, cause);
    throw cause;
  }
  if (blocks.length === 0) {
    // A DER file starts with a SEQUENCE tag; PEM is what Deno's TLS reads.
    throw fail(
      given,
      bytes[0] === 0x30
        ? `it is binary DER, not PEM text; convert it: ${convert}`
        : `it is not PEM (no "-----BEGIN" line in it)`,
    );
  }
  return blocks;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function when(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Why Deno's TLS cannot serve with this key, or null when it can. */
function unsupported(key: PublicKeyInfo): string | null {
  const ok = key.algorithm === OID.rsaEncryption
    ? (key.bits ?? 0) >= 2048
    : key.algorithm === OID.ecPublicKey
    ? [OID.p256, OID.p384, OID.p521].includes(key.curve as typeof OID.p256)
    : key.algorithm === OID.ed25519;
  if (!ok) return `its key is ${key.name}, which TLS here cannot use (it takes ${SUPPORTED})`;
  // rustls compares the certificate's key with the private key's byte for byte, and derives
  // the latter uncompressed: measured, a compressed point gives "KeyMismatch" with its own key.
  return isCompressedPoint(key)
    ? "its EC key is written in compressed form, which TLS here cannot match with the private " +
      "key; make the certificate again from the key in the usual form " +
      "(openssl ec -in KEY -conv_form uncompressed -out KEY)"
    : null;
}

/** The certificates, the first (the server's own) checked for version, dates and key type. */
function checkCerts(given: Given, blocks: PemBlock[], now: Date): Certificate[] {
  const pems = blocks.filter((b) => b.label === "CERTIFICATE");
  if (pems.length === 0) {
    const labels = [...new Set(blocks.map((b) => b.label))].join(", ");
    throw fail(
      given,
      blocks.some((b) => KEY_LABELS.has(b.label))
        ? "it holds a private key but no certificate: are --tls-cert and --tls-key swapped?"
        : `it holds no certificate (only ${labels})`,
    );
  }
  const certs = pems.map((b, i) => {
    try {
      return parseCertificate(b.der);
    } catch (cause) {
      if (!(cause instanceof DerError)) throw cause;
      const which = pems.length > 1 ? `certificate ${i + 1} in it` : "its certificate";
      throw fail(given, `${which} is malformed: ${lowerFirst(cause.message)}`, cause);
    }
  });
  // Only the server's own certificate: a chain may carry an expired cross-signed certificate on
  // purpose (for old clients), and clients that do not need it ignore it.
  const leaf = certs[0];
  if (leaf.version !== 3) {
    throw fail(
      given,
      `its certificate is X.509 version ${leaf.version}; TLS needs version 3 ` +
        "(what openssl req -x509 and certbot make)",
    );
  }
  const span = `valid from ${when(leaf.notBefore)} to ${when(leaf.notAfter)}`;
  if (now < leaf.notBefore) {
    throw fail(
      given,
      `its certificate is not valid yet (${span}) and the clock here says ${when(now)}: if the ` +
        "clock is wrong (a board without a real-time clock before NTP sets it), fix the clock",
    );
  }
  if (now > leaf.notAfter) {
    throw fail(
      given,
      `its certificate expired on ${when(leaf.notAfter)} (${span}); renew it ` +
        "(certbot renew) or make a new one",
    );
  }
  const why = unsupported(leaf.publicKey);
  if (why) throw fail(given, `its certificate is not usable: ${why}`);
  return certs;
}

/** The first private key block; an `InputError` when there is none or it is encrypted. */
function keyBlock(given: Given, blocks: PemBlock[]): PemBlock {
  const block = blocks.find((b) => KEY_LABELS.has(b.label) || b.label === "ENCRYPTED PRIVATE KEY");
  if (!block) {
    const labels = [...new Set(blocks.map((b) => b.label))].join(", ");
    throw fail(
      given,
      blocks.some((b) => b.label === "CERTIFICATE")
        ? "it holds a certificate but no private key: are --tls-cert and --tls-key swapped?"
        : blocks.some((b) => b.label === "OPENSSH PRIVATE KEY")
        ? "it is an OpenSSH key; TLS needs a PEM private key (openssl genpkey makes one)"
        : `it holds no private key (only ${labels})`,
    );
  }
  if (
    block.label === "ENCRYPTED PRIVATE KEY" || /ENCRYPTED/.test(block.headers["Proc-Type"] ?? "")
  ) {
    throw fail(
      given,
      "its private key is encrypted with a passphrase, which TLS here cannot ask for; " +
        "decrypt it once with openssl pkey -in KEY -out PLAIN-KEY (and chmod 600 PLAIN-KEY)",
    );
  }
  return block;
}

/**
 * Why Deno's TLS refuses to pair `cert` with `key`, or null when it takes them. An HTTP client
 * with them as its client certificate goes through the same loading and the same key-match
 * check (rustls) as `Deno.serve`, without a socket and synchronously.
 */
function tlsRefusal(cert: string, key: string): string | null {
  try {
    Deno.createHttpClient({ cert, key }).close();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Reads and checks both files: PEM, a well-formed X.509 v3 certificate first (the server's own)
 * that is valid at `now` and has a key type TLS here can use, and an unencrypted private key
 * that belongs to that certificate.
 *
 * @throws {InputError} naming the file and the flag (`--tls-cert` or `--tls-key`).
 */
export function loadTlsFiles(certPath: string, keyPath: string, now = new Date()): TlsFiles {
  const certFile: Given = { flag: "--tls-cert", path: certPath };
  const keyFile: Given = { flag: "--tls-key", path: keyPath };
  const certBlocks = readBlocks(
    certFile,
    "certificate",
    `openssl x509 -inform der -in ${certPath} -out ${certPath}.pem`,
  );
  const keyBlocks = readBlocks(
    keyFile,
    "private key",
    `openssl pkey -inform der -in ${keyPath} -out ${keyPath}.pem`,
  );
  const certs = checkCerts(certFile, certBlocks, now);
  const block = keyBlock(keyFile, keyBlocks);
  let kind;
  try {
    kind = privateKeyKind(block);
  } catch (cause) {
    if (!(cause instanceof DerError)) throw cause;
    throw fail(keyFile, `its private key is malformed: ${lowerFirst(cause.message)}`, cause);
  }
  const pems = certBlocks.filter((b) => b.label === "CERTIFICATE");
  const refusal = tlsRefusal(pems[0].text, block.text);
  if (refusal !== null) {
    if (!/KeyMismatch/.test(refusal)) {
      throw fail(keyFile, `TLS here cannot use this private key (${kind.name}): ${refusal}`);
    }
    const other = pems.findIndex((p, i) => i > 0 && tlsRefusal(p.text, block.text) === null);
    if (other > 0) {
      throw fail(
        certFile,
        `the key in --tls-key ${keyPath} belongs to certificate ${other + 1} in it, but the ` +
          "server's own certificate must come first (certbot's fullchain.pem has that order)",
      );
    }
    throw fail(
      keyFile,
      `this private key (${kind.name}) does not belong to the certificate in --tls-cert ` +
        `${certPath} (whose key is ${certs[0].publicKey.name}); give the key made with that ` +
        "certificate (certbot: privkey.pem beside fullchain.pem)",
    );
  }
  return { cert: pems.map((b) => b.text).join(""), key: block.text };
}
