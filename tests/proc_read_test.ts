import assert from "node:assert/strict";
import { ProcReadError, readProcText, readProcTextOrNull } from "../src/core/proc_read.ts";

const linux = Deno.build.os === "linux";

Deno.test({
  name: "proc read: a /proc file reads whole although it reports size 0",
  ignore: !linux,
  fn: () => {
    assert.equal(Deno.statSync("/proc/self/status").size, 0);
    const text = readProcText("/proc/self/status");
    assert.match(text, new RegExp(`^Pid:\\s+${Deno.pid}$`, "m"));
    assert.match(text, /^VmRSS:/m, "the whole file, not its first byte");
  },
});

Deno.test({
  name: "proc read: a file over its bound is refused, naming it, and is not a vanished process",
  ignore: !linux,
  fn: () => {
    assert.throws(() => readProcText("/proc/self/status", 16), (err: unknown) => {
      assert.ok(err instanceof ProcReadError);
      assert.match(err.message, /\/proc\/self\/status: it holds more than 16 bytes/);
      assert.equal(err.tooLarge, true);
      return true;
    });
    assert.throws(() => readProcTextOrNull("/proc/self/status", 16), ProcReadError);
  },
});

Deno.test("proc read: a file that is gone is null for the samplers, an error otherwise", () => {
  const path = "/proc/999999999/stat";
  assert.equal(readProcTextOrNull(path), null);
  assert.throws(() => readProcText(path), (err: unknown) => {
    assert.ok(err instanceof ProcReadError);
    assert.equal(err.tooLarge, false);
    assert.match(err.message, /^Cannot read \/proc\/999999999\/stat/);
    return true;
  });
});

Deno.test("proc read: the bound must be a positive integer", () => {
  assert.throws(() => readProcText("/proc/self/stat", 0), RangeError);
  assert.throws(() => readProcText("/proc/self/stat", 1.5), /maxBytes must be a positive integer/);
});
