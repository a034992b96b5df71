/**
 * Certificates and keys made at test time with openssl (Debian 12's 3.0), in a temporary
 * directory: self-signed ones for 127.0.0.1 and localhost, and dated ones (expired, not yet
 * valid) through `openssl ca`, because `openssl req -x509` in 3.0 has no `-not_before` or
 * `-not_after` and `-days` takes no negative count.
 *
 * The certificates say `CA:FALSE`: `openssl req -x509` otherwise writes `CA:TRUE`, and Deno's
 * fetch (rustls) then refuses it as a server certificate ("CaUsedAsEndEntity") even when it is
 * given as the one to trust.
 *
 * @module
 */

/** Key types openssl makes here. */
export type KeyKind = "rsa" | "rsa1024" | "ec" | "p384" | "ed25519" | "ed448";

const NEWKEY: Record<KeyKind, string[]> = {
  rsa: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
  rsa1024: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
  ec: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
  p384: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
  ed25519: ["-algorithm", "ED25519"],
  ed448: ["-algorithm", "ED448"],
};

const SAN = "subjectAltName=DNS:localhost,IP:127.0.0.1";
const LEAF = "basicConstraints=critical,CA:FALSE";

/** Runs openssl (bounded in time); throws with its stderr when it fails. */
export async function openssl(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A directory of test certificates; `remove()` deletes it. */
export class CertDir {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A new empty directory. */
  static create(): CertDir {
    return new CertDir(Deno.makeTempDirSync({ prefix: "tuchuan-tls-" }));
  }

  /** The path of `name` in the directory. */
  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  /** Writes `data` to `name`; returns its path. */
  write(name: string, data: string | Uint8Array): string {
    const p = this.path(name);
    if (typeof data === "string") Deno.writeTextFileSync(p, data);
    else Deno.writeFileSync(p, data);
    return p;
  }

  /** Makes a private key (PKCS#8 PEM) `NAME.key`; returns its path. */
  async key(name: string, kind: KeyKind = "rsa"): Promise<string> {
    await openssl(["genpkey", ...NEWKEY[kind], "-out", `${name}.key`], this.dir);
    return this.path(`${name}.key`);
  }

  /**
   * Makes a self-signed certificate `NAME.crt` for 127.0.0.1 and localhost, valid from now for
   * 30 days, and its key `NAME.key` (made unless it exists). Returns both paths.
   */
  async selfSigned(name: string, kind: KeyKind = "rsa"): Promise<{ cert: string; key: string }> {
    const key = await this.#keyFor(name, kind);
    await openssl([
      ..."req -x509 -new -days 30 -subj /CN=localhost".split(" "),
      ...["-key", key, "-out", `${name}.crt`, "-addext", SAN, "-addext", LEAF],
    ], this.dir);
    return { cert: this.path(`${name}.crt`), key };
  }

  /**
   * Makes a self-signed certificate `NAME.crt` valid between two dates (`YYYYMMDDHHMMSSZ`),
   * through `openssl ca`; `version1` leaves out the extensions, which makes it X.509 version 1.
   */
  async dated(
    name: string,
    start: string,
    end: string,
    options: { kind?: KeyKind; version1?: boolean } = {},
  ): Promise<{ cert: string; key: string }> {
    const key = await this.#keyFor(name, options.kind ?? "rsa");
    const conf = [
      "[ca]",
      "default_ca = d",
      "[d]",
      `database = ${this.path("index.txt")}`,
      `new_certs_dir = ${this.dir}`,
      `serial = ${this.path("serial")}`,
      "default_md = sha256",
      "policy = p",
      "unique_subject = no",
      ...(options.version1 ? [] : ["x509_extensions = ext"]),
      "[p]",
      "commonName = supplied",
      "[ext]",
      SAN,
      LEAF,
    ].join("\n");
    this.write(`${name}.cnf`, conf + "\n");
    this.write("index.txt", "");
    this.write("serial", "1000\n");
    await openssl(
      ["req", "-new", "-key", key, "-subj", "/CN=localhost", "-out", `${name}.csr`],
      this.dir,
    );
    await openssl([
      ..."ca -batch -selfsign -notext".split(" "),
      ...["-config", `${name}.cnf`, "-keyfile", key, "-in", `${name}.csr`, "-out", `${name}.crt`],
      ...["-startdate", start, "-enddate", end],
    ], this.dir);
    return { cert: this.path(`${name}.crt`), key };
  }

  async #keyFor(name: string, kind: KeyKind): Promise<string> {
    try {
      Deno.statSync(this.path(`${name}.key`));
      return this.path(`${name}.key`);
    } catch {
      return await this.key(name, kind);
    }
  }

  /** Deletes the directory. */
  remove(): void {
    Deno.removeSync(this.dir, { recursive: true });
  }
}
