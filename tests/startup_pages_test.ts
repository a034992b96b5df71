import assert from "node:assert/strict";
import { readProcText } from "../src/core/proc_read.ts";
import {
  ExecutablePages,
  type PageRelease,
  rangesStillMapped,
  releasableRanges,
  releaseStartupPages,
  StartupPages,
} from "../src/core/startup_pages.ts";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import { spawnServer, waitFor } from "./stream_helpers.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;
const EXE = "/opt/tuchuan/deno";

/** One `/proc/PID/smaps` entry, as Linux writes it (only the fields the parser reads, and two more). */
function entry(
  range: string,
  perms: string,
  path: string,
  kb: { rss: number; anon?: number; locked?: number },
) {
  return [
    `${range} ${perms} 00000000 fe:00 5308480                    ${path}`,
    `Size:              10000 kB`,
    `Rss:               ${kb.rss} kB`,
    `Pss:               ${kb.rss} kB`,
    `Anonymous:         ${kb.anon ?? 0} kB`,
    `Locked:            ${kb.locked ?? 0} kB`,
    `VmFlags: rd mr mw me`,
  ].join("\n");
}

Deno.test("releasable ranges: the executable's read-only mappings that hold no private page", () => {
  const smaps = [
    entry("1000-5000", "r--p", EXE, { rss: 12 }), // .rodata, .rela.dyn: taken
    entry("5000-9000", "r-xp", EXE, { rss: 16, anon: 0 }), // .text: taken
    entry("9000-a000", "r--p", EXE, { rss: 4, anon: 4 }), // .data.rel.ro after relro: written to
    entry("a000-b000", "rw-p", EXE, { rss: 4, anon: 0 }), // .data: writable
    entry("b000-c000", "r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6", { rss: 4, anon: 0 }),
    entry("c000-d000", "r-xp", `${EXE} (deleted)`, { rss: 4, anon: 0 }), // another file now
    entry("d000-e000", "r-xp", EXE, { rss: 0, anon: 0 }), // nothing resident
    entry("e000-f000", "r-xp", EXE, { rss: 4, anon: 0, locked: 4 }), // mlock'd
    entry("f000-10000", "rw-p", "", { rss: 4, anon: 4 }), // anonymous memory
    entry("7f0000-7f4000", "r-xp", EXE, { rss: 8, anon: 0 }), // V8's remapped builtins
  ].join("\n") + "\n";
  assert.deepEqual(releasableRanges(smaps, EXE), [
    { start: 0x1000n, end: 0x5000n, residentKb: 12 },
    { start: 0x5000n, end: 0x9000n, residentKb: 16 },
    { start: 0x7f0000n, end: 0x7f4000n, residentKb: 8 },
  ]);
});

Deno.test("releasable ranges: a mapping whose fields are missing is left alone", () => {
  const smaps = `1000-5000 r-xp 00000000 fe:00 1 ${EXE}\nSize: 16 kB\nRss: 16 kB\n`;
  assert.deepEqual(releasableRanges(smaps, EXE), []);
  assert.deepEqual(releasableRanges("", EXE), []);
});

Deno.test("later releases keep only the ranges the memory map still shows as the executable's", () => {
  const cached = [
    { start: 0x1000n, end: 0x5000n, residentKb: 12 },
    { start: 0x5000n, end: 0x9000n, residentKb: 16 },
    { start: 0x7f0000n, end: 0x7f4000n, residentKb: 8 },
  ];
  const line = (range: string, perms: string, path: string) =>
    `${range} ${perms} 00000000 fe:00 5308480                    ${path}`;
  const maps = [
    line("1000-5000", "r--p", EXE), // unchanged: kept
    line("5000-9000", "rw-p", EXE), // now writable: dropping it would lose its writes
    line("7f0000-7f2000", "r-xp", EXE), // split: not the range that was read
    line("7f2000-7f4000", "r-xp", ""), // anonymous now
  ].join("\n") + "\n";
  assert.deepEqual(rangesStillMapped(cached, maps, EXE), [cached[0]]);
  assert.deepEqual(rangesStillMapped(cached, "", EXE), []);
  assert.deepEqual(
    rangesStillMapped(cached, line("1000-5000", "r--p", `${EXE} (deleted)`), EXE),
    [],
    "another file at the same place",
  );
});

/** Resident KiB of this process's executable, from its own smaps. */
function exeResidentKb(): number {
  const exe = Deno.execPath();
  let kb = 0;
  let mine = false;
  for (const line of readProcText("/proc/self/smaps", 1024 * 1024).split("\n")) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S{4} \S+ \S+ \S+ *(.*)$/.exec(line);
    if (header) mine = header[1] === exe;
    else if (mine && line.startsWith("Rss:")) kb += Number(/(\d+)/.exec(line)![1]);
  }
  return kb;
}

Deno.test({
  name: "releasing the start-up pages shrinks this process's share of its binary, and it runs on",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const before = exeResidentKb();
    const result = releaseStartupPages();
    const after = exeResidentKb();
    assert.equal(result.kind, "released", JSON.stringify(result));
    if (result.kind !== "released") return;
    assert.ok(result.ranges >= 2, `text and read-only data at least: ${result.ranges}`);
    assert.equal(result.refused, 0);
    assert.ok(result.kb > 1024, `a test runner holds megabytes of its binary: ${result.kb} KiB`);
    assert.ok(after < before, `resident KiB of the binary ${before} -> ${after}`);
    // The pages come back as they are used: compiling, hashing, spawning and streams still work.
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("tuchuan"));
    assert.equal(digest.byteLength, 32);
    const { VERSION } = await import("../src/core/version.ts");
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
    const out = await new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "piped" })
      .output();
    assert.ok(out.success);
    assert.match(new TextDecoder().decode(out.stdout.subarray(0, 200)), /^deno /);
  },
});

Deno.test({
  name: "releasing again gives back what ran since, without reading the whole map",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const pages = new ExecutablePages();
    const first = pages.release();
    assert.equal(first.kind, "released", JSON.stringify(first));
    // Run code that was not run before the first release, so some of the binary comes back.
    const { VERSION } = await import("../src/core/version.ts");
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
    await crypto.subtle.digest("SHA-1", new Uint8Array(64));
    const back = exeResidentKb();
    const second = pages.release();
    assert.equal(second.kind, "released", JSON.stringify(second));
    if (first.kind !== "released" || second.kind !== "released") return;
    assert.equal(second.ranges, first.ranges, "the same ranges, found again in the map");
    assert.equal(second.refused, 0);
    assert.ok(exeResidentKb() < back, `resident KiB of the binary ${back} -> ${exeResidentKb()}`);
  },
});

function steps(result: PageRelease = { kind: "released", kb: 1, ranges: 1, refused: 0 }) {
  const whens: string[] = [];
  const pages = new StartupPages({
    release: () => result,
    onRelease: (_r, when) => whens.push(when),
    releaseFrames: [1, 3, 5],
  });
  return { pages, whens };
}

Deno.test("start-up pages go back when loaded, listening, capturing, at the given frames, then never", () => {
  const { pages, whens } = steps();
  pages.loaded();
  pages.listening();
  pages.capturing();
  assert.deepEqual(whens, ["modules loaded", "listening", "capturing"]);
  pages.frame();
  assert.deepEqual(whens.slice(3), ["first frame"]);
  pages.frame();
  assert.equal(whens.length, 4, "nothing between the steps");
  pages.frame();
  assert.deepEqual(whens.slice(3), ["first frame", "3 frames"]);
  pages.frame();
  pages.frame();
  assert.deepEqual(whens.slice(3), ["first frame", "3 frames", "5 frames"]);
  for (let i = 0; i < 100; i++) pages.frame();
  assert.equal(whens.length, 6, "streaming on costs no more releases");
});

Deno.test("start-up pages: where nothing can be given back, it is tried once", () => {
  const { pages, whens } = steps({ kind: "unavailable", reason: "not Linux" });
  pages.loaded();
  pages.listening();
  pages.capturing();
  for (let i = 0; i < 10; i++) pages.frame();
  assert.deepEqual(whens, ["modules loaded"]);
});

Deno.test("start-up pages: frame counts that are not ascending positive integers are refused", () => {
  for (const bad of [[], [0], [2.5], [3, 3], [5, 2]]) {
    assert.throws(
      () => new StartupPages({ releaseFrames: bad }),
      (e: unknown) => e instanceof RangeError && /releaseFrames must be ascending/.test(e.message),
      `[${bad}]`,
    );
  }
});

Deno.test({
  name: "tuchuan gives its start-up pages back and streams on",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const server = await spawnServer(["--source", FIXTURE, "--log-level", "debug"]);
    const released = () =>
      [...server.output().matchAll(/Start-up pages given back \(([^)]+)\): ([\d.]+) MB/g)].map((
        m,
      ) => [m[1], Number(m[2])] as const);
    try {
      await waitFor(() => released().length >= 3, "the releases up to capturing", 10_000, {
        details: () => server.output().slice(-2000),
      });
      assert.deepEqual(released().map(([when]) => when).slice(0, 3), [
        "modules loaded",
        "listening",
        "capturing",
      ]);
      assert.ok(released()[0][1] > 1, `megabytes of the binary: ${released()[0][1]} MB`);
      const res = await fetch(`${server.url}stream`);
      const parts = readMultipart(res.body!, "tuchuanframe", { strict: true });
      // Every part after the first frame's release is whole (the strict reader checks each one).
      for (let i = 0; i < 20; i++) {
        const part = await parts.next();
        assert.equal(part.done, false);
      }
      await waitFor(() => released().length >= 5, "the release at 15 frames", 10_000);
      assert.deepEqual(
        released().map(([when]) => when).slice(0, 5),
        ["modules loaded", "listening", "capturing", "first frame", "15 frames"],
      );
      await parts.return(undefined);
    } finally {
      server.child.kill("SIGTERM");
      await server.status;
    }
  },
});
