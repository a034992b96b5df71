/**
 * PEM blocks: found among other text, decoded, with RFC 1421 headers, and a malformed block
 * named by its number and label.
 *
 * @module
 */
import assert from "node:assert/strict";
import { pemBlocks, PemError } from "../src/net/pem.ts";

const block = (label: string, body: string) =>
  `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

Deno.test("pem: blocks in order, text between them ignored, CRLF and wrapped base64", () => {
  const text = "Subject: CN=x\n" + block("CERTIFICATE", "AAEC\nAw==") + "junk\r\n" +
    block("PRIVATE KEY", "/w==").replaceAll("\n", "\r\n");
  const blocks = pemBlocks(text);
  assert.deepEqual(blocks.map((b) => b.label), ["CERTIFICATE", "PRIVATE KEY"]);
  assert.deepEqual([...blocks[0].der], [0, 1, 2, 3]);
  assert.deepEqual([...blocks[1].der], [255]);
  assert.equal(blocks[0].text, block("CERTIFICATE", "AAEC\nAw=="));
  assert.deepEqual(pemBlocks("no pem here"), []);
});

Deno.test("pem: RFC 1421 headers (OpenSSL's old encrypted keys) are read apart", () => {
  const [b] = pemBlocks(
    block("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA"),
  );
  assert.equal(b.headers["Proc-Type"], "4,ENCRYPTED");
  assert.deepEqual([...b.der], [0, 0, 0]);
});

Deno.test("pem: a missing END, a mismatched END, bad base64 or an empty body is a PemError", () => {
  const cases: [string, RegExp][] = [
    ["-----BEGIN CERTIFICATE-----\nAAAA\n", /block 1 \(CERTIFICATE\) has no "-----END/],
    ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n", /has no "-----END CERT/],
    [block("CERTIFICATE", "AA$A"), /block 1 \(CERTIFICATE\) is not valid base64/],
    [block("CERTIFICATE", "AAAAA"), /not valid base64/],
    [block("A", "AAAA") + block("B", ""), /block 2 \(B\) is not valid base64/],
    ["-----BEGIN lower-----\nAAAA\n-----END lower-----\n", /malformed BEGIN line/],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => pemBlocks(text), (err: unknown) => {
      assert.ok(err instanceof PemError);
      assert.match(err.message, why);
      return true;
    });
  }
});
