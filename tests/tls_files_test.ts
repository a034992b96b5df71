/**
 * `--tls-cert` / `--tls-key` checking with certificates openssl makes at test time: what is
 * accepted is what Deno's TLS then serves (a real handshake), and each bad file is an
 * `InputError` naming that file and its flag, with the reason a person can act on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { InputError } from "../src/core/errors.ts";
import { loadTlsFiles, type TlsFiles } from "../src/net/tls_files.ts";
import { CertDir, openssl } from "./tls_certs.ts";
import { requires } from "./tools.ts";

/** Asserts that loading fails with an `InputError` for `flag`, naming `path`, matching `why`. */
function rejects(
  files: { cert: string; key: string },
  flag: "--tls-cert" | "--tls-key",
  why: RegExp,
  now?: Date,
): void {
  const path = flag === "--tls-cert" ? files.cert : files.key;
  assert.throws(() => loadTlsFiles(files.cert, files.key, now), (err: unknown) => {
    assert.ok(err instanceof InputError, `not an InputError: ${err}`);
    assert.equal(err.flag, flag);
    assert.ok(err.message.includes(`${flag}`), `the message names no flag: ${err.message}`);
    assert.ok(err.message.includes(path), `the message does not name ${path}: ${err.message}`);
    assert.match(err.message, why);
    return true;
  });
}

/** Serves `tls` with Deno.serve and fetches over it, trusting `caPem`: the status. */
async function serveAndFetch(tls: TlsFiles, caPem: string): Promise<number> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...tls },
    () => new Response("ok"),
  );
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    const res = await fetch(`https://127.0.0.1:${server.addr.port}/`, { client });
    await res.body?.cancel();
    return res.status;
  } finally {
    client.close();
    await server.shutdown();
  }
}

Deno.test(requires(["openssl"], {
  name:
    "tls files: RSA, EC and Ed25519 pairs in PKCS#8, PKCS#1 and SEC1 load, and Deno serves them",
  async fn(t) {
    const d = CertDir.create();
    try {
      const rsa = await d.selfSigned("rsa", "rsa");
      const ec = await d.selfSigned("ec", "ec");
      const p384 = await d.selfSigned("p384", "p384");
      const ed = await d.selfSigned("ed", "ed25519");
      await openssl(["pkey", "-in", rsa.key, "-traditional", "-out", "rsa_pkcs1.key"], d.dir);
      await openssl(["ec", "-in", ec.key, "-out", "ec_sec1.key"], d.dir);
      const cases = {
        "RSA 2048, PKCS#8": rsa,
        "RSA 2048, PKCS#1 (BEGIN RSA PRIVATE KEY)": {
          cert: rsa.cert,
          key: d.path("rsa_pkcs1.key"),
        },
        "EC P-256, SEC1 (BEGIN EC PRIVATE KEY)": { cert: ec.cert, key: d.path("ec_sec1.key") },
        "EC P-384, PKCS#8": p384,
        "Ed25519, PKCS#8": ed,
      };
      for (const [name, files] of Object.entries(cases)) {
        await t.step(name, async () => {
          const tls = loadTlsFiles(files.cert, files.key);
          assert.match(tls.cert, /^-----BEGIN CERTIFICATE-----\n/);
          assert.match(tls.key, /^-----BEGIN [A-Z ]*PRIVATE KEY-----\n/);
          assert.equal(await serveAndFetch(tls, Deno.readTextFileSync(files.cert)), 200);
        });
      }
      await t.step("an EC key with its point compressed, or left out", async () => {
        await openssl(
          ["ec", "-in", ec.key, "-conv_form", "compressed", "-out", "packed.key"],
          d.dir,
        );
        await openssl(["ec", "-in", ec.key, "-no_public", "-out", "nopub.key"], d.dir);
        for (const key of [d.path("packed.key"), d.path("nopub.key")]) {
          const tls = loadTlsFiles(ec.cert, key);
          assert.equal(await serveAndFetch(tls, Deno.readTextFileSync(ec.cert)), 200);
        }
      });
      await t.step("text around the blocks and CRLF line ends are ignored", async () => {
        const pem = Deno.readTextFileSync(rsa.cert);
        const cert = d.write(
          "noisy.crt",
          `Subject: CN=localhost\r\n${pem.replaceAll("\n", "\r\n")}`,
        );
        const key = d.write(
          "both.pem",
          Deno.readTextFileSync(rsa.cert) + Deno.readTextFileSync(rsa.key),
        );
        const tls = loadTlsFiles(cert, key);
        assert.equal(tls.cert.replaceAll("\r", ""), pem);
        assert.equal(await serveAndFetch(tls, pem), 200);
      });
      await t.step("a chain: the server's certificate first, then others", () => {
        const chain = d.write(
          "chain.crt",
          Deno.readTextFileSync(rsa.cert) + Deno.readTextFileSync(ec.cert),
        );
        const tls = loadTlsFiles(chain, rsa.key);
        assert.equal(tls.cert.match(/BEGIN CERTIFICATE/g)?.length, 2);
      });
    } finally {
      d.remove();
    }
  },
}));

Deno.test(requires(["openssl"], {
  name: "tls files: an unreadable, oversized or non-PEM file is an error naming it",
  async fn(t) {
    const d = CertDir.create();
    try {
      const good = await d.selfSigned("good");
      await t.step("missing certificate", () => {
        rejects({ cert: d.path("nope.crt"), key: good.key }, "--tls-cert", /No such file/);
      });
      await t.step("missing key", () => {
        rejects({ cert: good.cert, key: d.path("nope.key") }, "--tls-key", /No such file/);
      });
      await t.step("a directory", () => {
        rejects({ cert: d.dir, key: good.key }, "--tls-cert", /not a regular file/);
      });
      await t.step("over the 1 MiB bound", () => {
        const big = d.write("big.crt", Deno.readTextFileSync(good.cert).padEnd(1100 * 1024, "#"));
        rejects({ cert: big, key: good.key }, "--tls-cert", /over the 1 MiB limit/);
      });
      await t.step("not PEM", () => {
        const junk = d.write("junk.txt", "hello\n");
        rejects({ cert: junk, key: good.key }, "--tls-cert", /not PEM/);
        rejects({ cert: good.cert, key: junk }, "--tls-key", /not PEM/);
      });
      await t.step("binary DER, with the command that converts it", async () => {
        await openssl(["x509", "-in", good.cert, "-outform", "der", "-out", "good.der"], d.dir);
        rejects(
          { cert: d.path("good.der"), key: good.key },
          "--tls-cert",
          /binary DER, not PEM.*openssl x509 -inform der/,
        );
      });
      await t.step("a block without its END line, or with broken base64", () => {
        const pem = Deno.readTextFileSync(good.cert);
        const cut = d.write("cut.crt", pem.slice(0, pem.indexOf("-----END")));
        rejects({ cert: cut, key: good.key }, "--tls-cert", /no "-----END CERTIFICATE-----" line/);
        const bad = d.write("bad64.crt", pem.replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!"));
        rejects({ cert: bad, key: good.key }, "--tls-cert", /not valid base64/);
      });
      await t.step("PEM that is not a certificate inside", () => {
        const fake = d.write(
          "fake.crt",
          "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        );
        rejects({ cert: fake, key: good.key }, "--tls-cert", /its certificate is malformed/);
      });
      await t.step("the two files swapped", () => {
        rejects({ cert: good.key, key: good.key }, "--tls-cert", /no certificate: .*swapped/);
        rejects({ cert: good.cert, key: good.cert }, "--tls-key", /no private key: .*swapped/);
      });
    } finally {
      d.remove();
    }
  },
}));

Deno.test(requires(["openssl"], {
  name: "tls files: an expired, not yet valid or version 1 certificate is refused with its dates",
  async fn(t) {
    const d = CertDir.create();
    try {
      // UTCTime dates (before 2050) and GeneralizedTime ones (2050 on) both occur.
      const expired = await d.dated("expired", "20200101000000Z", "20200201000000Z");
      const future = await d.dated("future", "20600101000000Z", "20610101000000Z");
      const v1 = await d.dated("v1", "20200101000000Z", "20991231000000Z", { version1: true });
      const good = await d.selfSigned("good");
      await t.step("expired in 2020", () => {
        rejects(expired, "--tls-cert", /expired on 2020-02-01 00:00:00 UTC.*renew/);
      });
      await t.step("valid only from 2060: the clock may be wrong", () => {
        rejects(future, "--tls-cert", /not valid yet \(valid from 2060-01-01 00:00:00 UTC.*clock/);
      });
      await t.step("it is the given time that counts", () => {
        assert.doesNotThrow(() => loadTlsFiles(future.cert, future.key, new Date("2060-06-01")));
        assert.doesNotThrow(() => loadTlsFiles(expired.cert, expired.key, new Date("2020-01-15")));
        const later = new Date(Date.now() + 31 * 86_400_000);
        rejects(good, "--tls-cert", /expired on/, later);
      });
      await t.step("X.509 version 1", () => {
        rejects(v1, "--tls-cert", /X\.509 version 1; TLS needs version 3/);
      });
    } finally {
      d.remove();
    }
  },
}));

Deno.test(requires(["openssl"], {
  name: "tls files: a key that is not the certificate's, encrypted, or of a type TLS cannot use",
  async fn(t) {
    const d = CertDir.create();
    try {
      const rsa = await d.selfSigned("rsa");
      const ec = await d.selfSigned("ec", "ec");
      const other = await d.key("other");
      await t.step("another RSA key", () => {
        rejects(
          { cert: rsa.cert, key: other },
          "--tls-key",
          new RegExp(
            `\\(RSA 2048-bit\\) does not belong to the certificate in --tls-cert ${rsa.cert}`,
          ),
        );
      });
      await t.step("an EC key for an RSA certificate", () => {
        rejects(
          { cert: rsa.cert, key: ec.key },
          "--tls-key",
          /\(EC P-256\) does not belong.*RSA 2048/,
        );
      });
      await t.step("an Ed25519 key for an RSA certificate", async () => {
        const ed = await d.key("ed", "ed25519");
        rejects({ cert: rsa.cert, key: ed }, "--tls-key", /\(Ed25519\) does not belong.*RSA 2048/);
      });
      await t.step("a key whose DER inside the PEM is damaged", () => {
        const bad = d.write(
          "bad.key",
          "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
        );
        rejects({ cert: rsa.cert, key: bad }, "--tls-key", /its private key is malformed/);
      });
      await t.step("a chain in the wrong order: the key's certificate second", () => {
        const chain = d.write(
          "wrong.crt",
          Deno.readTextFileSync(ec.cert) + Deno.readTextFileSync(rsa.cert),
        );
        rejects(
          { cert: chain, key: rsa.key },
          "--tls-cert",
          /belongs to certificate 2 in it.*first/,
        );
      });
      await t.step("encrypted with a passphrase (PKCS#8 and the old OpenSSL form)", async () => {
        await openssl(
          ["pkey", "-in", rsa.key, "-aes256", "-passout", "pass:x", "-out", "p8.key"],
          d.dir,
        );
        rejects({ cert: rsa.cert, key: d.path("p8.key") }, "--tls-key", /encrypted.*openssl pkey/);
        await openssl(
          [
            "rsa",
            "-in",
            rsa.key,
            "-traditional",
            "-aes256",
            "-passout",
            "pass:x",
            "-out",
            "old.key",
          ],
          d.dir,
        );
        assert.match(Deno.readTextFileSync(d.path("old.key")), /Proc-Type: 4,ENCRYPTED/);
        rejects({ cert: rsa.cert, key: d.path("old.key") }, "--tls-key", /encrypted/);
      });
      await t.step("RSA 1024 and Ed448, which Deno's TLS refuses", async () => {
        rejects(await d.selfSigned("small", "rsa1024"), "--tls-cert", /RSA 1024-bit, which TLS/);
        rejects(await d.selfSigned("ed448", "ed448"), "--tls-cert", /Ed448, which TLS/);
      });
      await t.step("an EC certificate whose point is compressed", async () => {
        await openssl(
          ["ec", "-in", ec.key, "-conv_form", "compressed", "-out", "packed.key"],
          d.dir,
        );
        await openssl(
          ["req", "-x509", "-key", "packed.key", "-subj", "/CN=localhost", "-out", "packed.crt"],
          d.dir,
        );
        rejects({ cert: d.path("packed.crt"), key: ec.key }, "--tls-cert", /compressed form/);
      });
    } finally {
      d.remove();
    }
  },
}));
