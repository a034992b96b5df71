import assert from "node:assert/strict";
import { LIBC_NAMES, openLibc } from "../src/core/libc.ts";

Deno.test({
  name: "libc opens through FFI and its calls answer for this process",
  ignore: Deno.build.os !== "linux",
  fn: () => {
    const libc = openLibc({ getpid: { parameters: [], result: "i32" } });
    assert.ok(libc, `one of ${LIBC_NAMES.join(", ")} opens`);
    assert.equal(libc.getpid(), Deno.pid);
  },
});

Deno.test({
  name: "libc: a symbol it lacks gives null, not an exception",
  ignore: Deno.build.os !== "linux",
  fn: () => {
    assert.equal(openLibc({ tuchuan_no_such_symbol: { parameters: [], result: "void" } }), null);
  },
});
