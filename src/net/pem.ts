/**
 * PEM text (RFC 7468): the `-----BEGIN LABEL-----` blocks of a certificate or key file, each
 * decoded to its DER bytes. Text between blocks is ignored, as OpenSSL and Deno's TLS ignore it
 * (`openssl x509 -text` writes a human-readable dump before the block).
 *
 * The scan is linear in the text: a BEGIN line without its END line ends it with an error rather
 * than a search from every later BEGIN.
 *
 * @module
 */

/** One PEM block. */
export interface PemBlock {
  /** The label: `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`... */
  readonly label: string;
  /** RFC 1421 header lines (`Proc-Type: 4,ENCRYPTED`), by name; empty for most files. */
  readonly headers: Readonly<Record<string, string>>;
  /** The base64 body, decoded. */
  readonly der: Uint8Array;
  /** The block's text, BEGIN to END line, for handing on to a PEM reader. */
  readonly text: string;
}

/** Text that is not well-formed PEM. */
export class PemError extends Error {
  /** @param message says which block and why; @param options the usual `cause` */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PemError";
  }
}

const BEGIN = "-----BEGIN ";
const DASHES = "-----";
/** Labels are upper-case words (RFC 7468 allows more, no real file uses it). */
const LABEL = /^[A-Z0-9][A-Z0-9 ]{0,63}$/;
const HEADER = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The PEM blocks in `text`, in order. Throws `PemError` for a malformed one. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let at = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, at);
    if (begin < 0) return blocks;
    const labelEnd = text.indexOf(DASHES, begin + BEGIN.length);
    const label = labelEnd < 0 ? "" : text.slice(begin + BEGIN.length, labelEnd);
    const n = blocks.length + 1;
    if (!LABEL.test(label)) throw new PemError(`PEM block ${n} has a malformed BEGIN line`);
    const endLine = `-----END ${label}-----`;
    const end = text.indexOf(endLine, labelEnd);
    if (end < 0) throw new PemError(`PEM block ${n} (${label}) has no "${endLine}" line`);
    const body = text.slice(labelEnd + DASHES.length, end);
    const { headers, der } = decodeBody(body, `PEM block ${n} (${label})`);
    const stop = end + endLine.length;
    blocks.push({ label, headers, der, text: `${text.slice(begin, stop)}\n` });
    at = stop;
  }
}

function decodeBody(body: string, what: string): Pick<PemBlock, "headers" | "der"> {
  const headers: Record<string, string> = {};
  const lines = body.split(/\r?\n/).map((l) => l.trim());
  let i = 0;
  while (i < lines.length && lines[i] === "") i++;
  // RFC 1421 headers (OpenSSL's "traditional" encrypted keys) come first, then a blank line.
  for (let m; i < lines.length && (m = HEADER.exec(lines[i])); i++) headers[m[1]] = m[2];
  const b64 = lines.slice(i).join("");
  if (b64 === "" || !BASE64.test(b64) || b64.length % 4 === 1) {
    throw new PemError(`${what} is not valid base64`);
  }
  let bin: string;
  try {
    bin = atob(b64);
  } catch (cause) {
    throw new PemError(`${what} is not valid base64`, { cause });
  }
  const der = new Uint8Array(bin.length);
  for (let j = 0; j < bin.length; j++) der[j] = bin.charCodeAt(j);
  return { headers, der };
}
