/**
 * `--tls-cert` and `--tls-key`: the PEM files read (each with a size bound) and checked before
 * the server listens, so that a wrong file is an error naming it and exit code 2, not a TLS
 * failure at the first browser.
 *
 * @module
 */
import { InputError } from "../core/errors.ts";
import { FileReadError, readFileBounded } from "../core/read_bounded.ts";

/** Largest PEM file accepted (a long chain is a few KB). */
const MAX_PEM_BYTES = 1024 * 1024;

/** The certificate chain and key, as PEM text. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
}

function readPem(path: string, flag: string, what: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileBounded(path, MAX_PEM_BYTES, what);
  } catch (cause) {
    if (cause instanceof FileReadError) {
      throw new InputError(`Invalid ${flag} ${path}: ${cause.message}`, { cause, flag });
    }
    throw cause;
  }
  return new TextDecoder().decode(bytes);
}

/** Reads and checks both files. Throws `InputError` naming the file and the flag. */
export function loadTlsFiles(certPath: string, keyPath: string): TlsFiles {
  const cert = readPem(certPath, "--tls-cert", "certificate");
  const key = readPem(keyPath, "--tls-key", "private key");
  if (!/-----BEGIN CERTIFICATE-----/.test(cert)) {
    throw new InputError(`Invalid --tls-cert ${certPath}: no PEM certificate in it`, {
      flag: "--tls-cert",
    });
  }
  if (!/-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(key)) {
    throw new InputError(`Invalid --tls-key ${keyPath}: no PEM private key in it`, {
      flag: "--tls-key",
    });
  }
  return { cert, key };
}
