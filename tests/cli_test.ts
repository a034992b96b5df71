/**
 * The command line's answers to bad input (issue 10): each a message naming the flag and the
 * value, and exit code 2, whether the value is malformed (found while parsing) or unusable
 * (found when tried: a port in use, a host that does not resolve, a file that is not an image).
 *
 * @module
 */
import assert from "node:assert/strict";
import { killAfter } from "./test_utils.ts";
import { requires } from "./tools.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;

/** Runs main.ts with `args` (and `env`) to its exit; its code and output. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = killAfter(child, 60_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    killer.cancel();
  }
}

async function withTemp<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_cli_" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts exit 2 with a message matching every pattern. */
function exits2(r: { code: number; output: string }, ...patterns: RegExp[]): void {
  assert.equal(r.code, 2, r.output);
  for (const p of patterns) assert.match(r.output, p);
}

Deno.test("a port in use is exit 2 naming --port and the port", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const r = await run(["--source", FIXTURE, "--port", String(port)]);
    exits2(r, new RegExp(`--port ${port}`), /already in use/);
  } finally {
    taken.close();
  }
});

Deno.test("hosts: an impossible address and one that does not resolve are exit 2 naming --host", async () => {
  exits2(await run(["--source", FIXTURE, "--host", "999.1.1.1"]), /--host "999\.1\.1\.1"/);
  exits2(
    await run(["--source", FIXTURE, "--host", "no-such-host.invalid", "--port", "0"]),
    /--host "no-such-host\.invalid"/,
  );
});

Deno.test('an empty TUCHUAN_TOKEN is refused like --token "", without running open', async () => {
  const r = await run(["--source", FIXTURE, "--port", "0"], { TUCHUAN_TOKEN: "" });
  exits2(r, /TUCHUAN_TOKEN/);
  assert.doesNotMatch(r.output, /live MJPEG on port/);
});

Deno.test("files that cannot be right are exit 2 naming them, read with a bound", async () => {
  await withTemp(async (dir) => {
    exits2(
      await run(["--source", FIXTURE, "--port", "0", "--offline-image", "/dev/zero"]),
      /--offline-image/,
      /not a regular file/,
    );
    const big = `${dir}/big.png`;
    const f = await Deno.open(big, { write: true, create: true });
    await f.truncate(20 * 1024 * 1024);
    f.close();
    exits2(
      await run(["--source", FIXTURE, "--port", "0", "--offline-image", big]),
      /--offline-image/,
      /over the 16 MiB limit/,
    );
    const text = `${dir}/notes.png`;
    await Deno.writeTextFile(text, "not a picture");
    exits2(
      await run(["--source", FIXTURE, "--port", "0", "--offline-image", text]),
      /--offline-image/,
      /expected PNG or JPEG/,
    );
    const empty = `${dir}/frames`;
    await Deno.mkdir(empty);
    exits2(await run(["--source", empty, "--port", "0"]), /--source/, /holds no JPEG files/);
    exits2(
      await run(["--source", `${dir}/nothing-here.mp4`, "--port", "0"]),
      /--source/,
      /not auto, testsrc/,
    );
  });
});

Deno.test(requires(["ffmpeg"], {
  name: "a .mjpeg that holds no video is refused at startup instead of spinning ffmpeg",
  async fn() {
    await withTemp(async (dir) => {
      const junk = `${dir}/junk.mjpeg`;
      await Deno.writeFile(junk, crypto.getRandomValues(new Uint8Array(65536)));
      exits2(await run(["--source", junk, "--port", "0"]), /--source/, /no video stream/);
    });
  },
}));

Deno.test("--rotate, --flip and --control values are checked like every flag", async () => {
  exits2(await run(["--rotate", "45"]), /--rotate "45"/);
  exits2(await run(["--flip", "sideways"]), /--flip "sideways"/);
  exits2(await run(["--control", "brightness"]), /--control "brightness"/);
  exits2(await run(["--camera", "a b=testsrc"]), /--camera "a b=testsrc"/);
});
