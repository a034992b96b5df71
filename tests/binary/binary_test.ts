/**
 * The single-file binary (`make binary`): built with the same `deno compile` flags into a
 * temporary directory (never the repo tree), then run: `--help` exits 0, it streams, serves
 * `/snapshot.jpg` and the viewer page, encodes in its bundled worker (`--overlay`), falls back to
 * its bundled fixture without ffmpeg, and exits 0 on SIGTERM.
 *
 * `deno compile` downloads its runtime (denort) unless DENORT_BIN points at one; when the build
 * fails (offline, no denort), every test here is ignored and the compile error is printed.
 * `TUCHUAN_BINARY=path` tests an already-built binary (for example `dist/tuchuan` after
 * `make binary`) instead of compiling one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { jpegInfo } from "../../src/jpeg/jpeg_info.ts";
import { readMultipart } from "../../src/multipart/multipart_reader.ts";
import { killAfter } from "../test_utils.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** The flags of the Makefile's `binary` target. */
const COMPILE_INCLUDES = [
  "--include",
  "src/image/encode_worker.ts",
  "--include",
  "fixtures/testcard.mjpeg",
];
const BUILD_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 30_000;

/** Strips colour codes from tool output. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Builds the binary into a temporary directory; the reason it could not, otherwise. */
async function build(): Promise<{ bin: string; dir: string | null } | { error: string }> {
  const prebuilt = Deno.env.get("TUCHUAN_BINARY");
  if (prebuilt) {
    try {
      await Deno.stat(prebuilt);
      return { bin: prebuilt, dir: null };
    } catch {
      return { error: `TUCHUAN_BINARY=${prebuilt} does not exist` };
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "tuchuan_binary_" });
  const bin = `${dir}/tuchuan`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "-A",
      "--v8-flags=--max-semi-space-size=2",
      ...COMPILE_INCLUDES,
      "--output",
      bin,
      "main.ts",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = killAfter(child, BUILD_TIMEOUT_MS);
  const out = await child.output().finally(() => killer.cancel());
  if (out.success) return { bin, dir };
  await Deno.remove(dir, { recursive: true });
  const log = plain(new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout));
  if (killer.timedOut()) {
    return { error: `deno compile did not finish within ${BUILD_TIMEOUT_MS / 1000} s` };
  }
  // The "error:" line says what failed; the last "N: ..." cause line says why (e.g. dns error).
  const lines = log.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => l.startsWith("error:")) ?? lines.at(-1) ?? "(no output)";
  const backtrace = lines.indexOf("Stack backtrace:");
  const causes = lines.slice(0, backtrace < 0 ? lines.length : backtrace)
    .filter((l) => /^\d+: /.test(l));
  return {
    error: `deno compile failed (exit ${out.code}): ${error}${
      causes.length ? ` | ${causes.at(-1)!.replace(/^\d+: /, "")}` : ""
    }`,
  };
}

const BUILD = await build();
const SKIP = "error" in BUILD;
if ("error" in BUILD) {
  console.warn(
    `binary_test: binary tests ignored: ${BUILD.error}` +
      (Deno.env.get("DENORT_BIN") ? "" : " (set DENORT_BIN to a denort binary to build offline)"),
  );
} else if (BUILD.dir) {
  const dir = BUILD.dir;
  // The build outlives single tests; remove it when the test module goes away.
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // Already gone.
    }
  });
}
const BIN = "error" in BUILD ? "" : BUILD.bin;

/** A running binary: its base URL, and its output so far. */
interface Running {
  base: string;
  child: Deno.ChildProcess;
  /** Its working directory: empty, so nothing from the repo tree can help it. */
  cwd: string;
  output: () => string;
  done: Promise<Deno.CommandStatus>;
}

/**
 * Starts the binary on a free port and waits for its banner's Stream line. The process is
 * killed after RUN_TIMEOUT_MS whatever happens; callers stop it with SIGTERM in `finally`.
 */
async function launch(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const cwd = await Deno.makeTempDir({ prefix: "tuchuan_binary_cwd_" });
  const child = new Deno.Command(BIN, {
    args: ["--port", "0", "--log-level", "warn", ...args],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = killAfter(child, RUN_TIMEOUT_MS);
  let text = "";
  const found = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const m = /Stream:\s+(http:\/\/127\.0\.0\.1:\d+\/)stream/.exec(text);
      if (m) found.resolve(m[1]);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  const done = child.status.then(async (status) => {
    killer.cancel();
    await drained;
    found.reject(new Error(`tuchuan exited (${status.code}) before its banner:\n${text}`));
    return status;
  });
  let base: string;
  try {
    base = await found.promise;
  } catch (err) {
    await Deno.remove(cwd, { recursive: true });
    throw err;
  }
  return { base, child, cwd, output: () => text, done };
}

/** Stops the binary as a service manager would and returns its exit status. */
async function terminate(run: Running): Promise<Deno.CommandStatus> {
  try {
    run.child.kill("SIGTERM");
  } catch {
    // Already exited.
  }
  const status = await run.done;
  await Deno.remove(run.cwd, { recursive: true }).catch(() => {});
  return status;
}

async function firstPart(base: string): Promise<Uint8Array> {
  const res = await fetch(`${base}stream`, { headers: { "User-Agent": "curl/8.5.0" } });
  assert.equal(res.status, 200);
  for await (const part of readMultipart(res.body!, "tuchuanframe", { strict: true })) {
    assert.equal(Number(part.headers.get("content-length")), part.body.length);
    return part.body;
  }
  throw new Error("the stream ended before its first part");
}

Deno.test({
  name: "binary: --help exits 0 and prints the flags",
  ignore: SKIP,
  async fn() {
    const out = await new Deno.Command(BIN, {
      args: ["--help"],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /Usage: tuchuan/);
    assert.match(text, /--port PORT/);
  },
});

Deno.test({
  name: "binary: streams through its bundled encode worker, serves snapshots and the viewer",
  ignore: SKIP,
  async fn() {
    // --overlay needs the imagescript worker, which only exists in the binary via --include.
    const run = await launch([
      "--source",
      "auto",
      "--size",
      "320x240",
      "--fps",
      "10",
      "--overlay",
      "fps",
    ]);
    let status: Deno.CommandStatus | null = null;
    try {
      assert.deepEqual(jpegInfo(await firstPart(run.base)), { width: 320, height: 240 });
      const snap = await fetch(`${run.base}snapshot.jpg`);
      assert.equal(snap.status, 200);
      assert.equal(snap.headers.get("content-type"), "image/jpeg");
      assert.deepEqual(jpegInfo(new Uint8Array(await snap.arrayBuffer())), {
        width: 320,
        height: 240,
      });
      const page = await fetch(run.base);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      assert.match(await page.text(), /<img[^>]+stream/);
      const state = await (await fetch(`${run.base}state`)).json();
      assert.equal(state.encoder.kind, "imagescript");
      assert.ok(state.frames.published >= 1);
      status = await terminate(run);
      assert.equal(status.code, 0, `exit on SIGTERM:\n${run.output()}`);
    } finally {
      status ??= await terminate(run);
    }
  },
});

const VIDEO0 = await Deno.stat("/dev/video0").then(() => true, () => false);
if (VIDEO0) {
  console.warn("binary_test: /dev/video0 exists, so auto picks it: the fixture test is ignored");
}

Deno.test({
  name: "binary: without ffmpeg on PATH, --source auto plays the bundled fixture",
  ignore: SKIP || VIDEO0,
  async fn() {
    const run = await launch(["--source", "auto"], { PATH: "/nonexistent" });
    let status: Deno.CommandStatus | null = null;
    try {
      assert.deepEqual(jpegInfo(await firstPart(run.base)), { width: 320, height: 240 });
      const state = await (await fetch(`${run.base}state`)).json();
      assert.equal(state.source.kind, "replay");
      assert.match(state.source.input, /testcard\.mjpeg/);
      status = await terminate(run);
      assert.equal(status.code, 0, `exit on SIGTERM:\n${run.output()}`);
    } finally {
      status ??= await terminate(run);
    }
  },
});
