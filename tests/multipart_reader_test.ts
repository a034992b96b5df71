import assert from "node:assert/strict";
import {
  boundaryFromContentType,
  MultipartParseError,
  type MultipartPart,
  readMultipart,
  type ReadMultipartOptions,
} from "../src/multipart/multipart_reader.ts";
import { concat, makeJpeg } from "./test_utils.ts";

const B = "tuchuanframe";
const encoder = new TextEncoder();

/** Joins bytes and strings. */
const bytes = (...parts: (Uint8Array | string)[]): Uint8Array => concat(...parts);

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

function cutAt(input: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const bounds = [0, ...offsets, input.length];
  return bounds.slice(1).map((end, k) => input.slice(bounds[k], end));
}

async function parse(
  chunks: Uint8Array[],
  opts?: ReadMultipartOptions,
  boundary = B,
): Promise<MultipartPart[]> {
  const parts: MultipartPart[] = [];
  for await (const part of readMultipart(streamOf(chunks), boundary, opts)) parts.push(part);
  return parts;
}

/** Parses until it ends or throws; returns the parts so far and the error, if any. */
async function parseUntilError(
  chunks: Uint8Array[],
  opts?: ReadMultipartOptions,
): Promise<{ parts: MultipartPart[]; error?: unknown }> {
  const parts: MultipartPart[] = [];
  try {
    for await (const part of readMultipart(streamOf(chunks), B, opts)) parts.push(part);
  } catch (error) {
    return { parts, error };
  }
  return { parts };
}

function assertParseError(error: unknown, pattern: RegExp): void {
  assert.ok(error instanceof MultipartParseError, `expected a MultipartParseError, got ${error}`);
  assert.equal(error.name, "MultipartParseError");
  assert.match(error.message, pattern);
}

/** A part as tuchuan writes it for non-browser clients. */
function fullPart(jpeg: Uint8Array, timestamp: string): Uint8Array {
  return bytes(
    `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\nX-Timestamp: ${timestamp}\r\n\r\n`,
    jpeg,
    `\r\n--${B}`,
  );
}

async function fixtures() {
  const jpegs = [
    await makeJpeg(16, 16, 0xff0000ff),
    await makeJpeg(16, 8, 0x00ff00ff),
    await makeJpeg(8, 16, 0x0000ffff),
  ];
  const timestamps = ["1700000000.000001", "1700000000.033334", "1700000000.066667"];
  // tuchuan's non-browser form: every part with Content-Length, then the close delimiter.
  const full = bytes(
    `--${B}\r\n`,
    fullPart(jpegs[0], timestamps[0]),
    "\r\n",
    fullPart(jpegs[1], timestamps[1]),
    "\r\n",
    fullPart(jpegs[2], timestamps[2]),
    "--\r\n",
  );
  // tuchuan's browser form: the next header block goes out right after each frame.
  const ahead = `\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n`;
  const early = bytes(
    `--${B}\r\nContent-Type: image/jpeg\r\n\r\n`,
    jpegs[0],
    ahead,
    jpegs[1],
    ahead,
    jpegs[2],
    ahead,
    `\r\n--${B}--\r\n`,
  );
  // The Flask seed's form (boundary "frame"): no opening boundary, an extra CRLF before each one.
  const seed = bytes(
    "Content-Type: data/jpeg\r\n\r\n",
    jpegs[0],
    "\r\n\r\n--frame\r\nContent-Type: data/jpeg\r\n\r\n",
    jpegs[1],
    "\r\n\r\n--frame\r\nContent-Type: data/jpeg\r\n\r\n",
    jpegs[2],
    "\r\n\r\n--frame\r\n",
  );
  return { jpegs, timestamps, full, early, seed };
}

Deno.test("boundaryFromContentType reads plain and quoted boundaries", () => {
  assert.equal(boundaryFromContentType("multipart/x-mixed-replace; boundary=frame"), "frame");
  assert.equal(boundaryFromContentType("multipart/x-mixed-replace;boundary=--abc"), "--abc");
  assert.equal(
    boundaryFromContentType('multipart/x-mixed-replace; charset=x; BOUNDARY="a b;c\\"d"'),
    'a b;c"d',
  );
  assert.equal(boundaryFromContentType("multipart/x-mixed-replace; boundary = x ; q=1"), "x");
});

Deno.test("boundaryFromContentType throws a TypeError naming a value without boundary", () => {
  for (const value of ["image/jpeg", "multipart/x-mixed-replace", "multipart/mixed; boundary="]) {
    assert.throws(() => boundaryFromContentType(value), (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.ok(error.message.includes(JSON.stringify(value)), error.message);
      return true;
    });
  }
});

Deno.test("readMultipart reads tuchuan's full-header form, cut at every offset", async () => {
  const { jpegs, timestamps, full } = await fixtures();
  for (const strict of [true, false]) {
    for (let cut = 0; cut <= full.length; cut++) {
      const parts = await parse(cutAt(full, cut), { strict });
      const label = `strict ${strict}, cut at ${cut}`;
      assert.deepEqual(parts.map((p) => p.body), jpegs, label);
      assert.deepEqual(parts.map((p) => p.headers.get("x-timestamp")), timestamps, label);
      assert.equal(parts[1].headers.get("content-type"), "image/jpeg", label);
      assert.equal(parts[1].headers.get("content-length"), String(jpegs[1].length), label);
    }
  }
});

Deno.test("readMultipart reads one-byte chunks", async () => {
  const { jpegs, full, early } = await fixtures();
  const oneByte = (input: Uint8Array) => Array.from(input, (b) => new Uint8Array([b]));
  assert.deepEqual((await parse(oneByte(full), { strict: true })).map((p) => p.body), jpegs);
  assert.deepEqual((await parse(oneByte(early))).map((p) => p.body), jpegs);
});

Deno.test("readMultipart reads the early header-block form, cut at every offset", async () => {
  const { jpegs, early } = await fixtures();
  for (let cut = 0; cut <= early.length; cut++) {
    const parts = await parse(cutAt(early, cut));
    assert.deepEqual(parts.map((p) => p.body), jpegs, `cut at ${cut}`);
    assert.ok(parts.every((p) => p.headers.get("content-type") === "image/jpeg"));
  }
});

Deno.test("readMultipart in strict mode rejects a part without Content-Length", async () => {
  const { early } = await fixtures();
  const { parts, error } = await parseUntilError([early], { strict: true });
  assert.equal(parts.length, 0);
  assertParseError(error, /^Part 1 has no Content-Length$/);
});

Deno.test("readMultipart reads the seed's form, cut at every offset", async () => {
  const { jpegs, seed } = await fixtures();
  for (let cut = 0; cut <= seed.length; cut++) {
    const parts = await parse(cutAt(seed, cut), {}, "frame");
    // The seed's extra CRLF stays in the body, as documented; callers trim it.
    assert.deepEqual(parts.map((p) => p.body), jpegs.map((j) => bytes(j, "\r\n")), `cut ${cut}`);
    assert.ok(parts.every((p) => p.headers.get("content-type") === "data/jpeg"));
  }
});

Deno.test("readMultipart in strict mode rejects the seed's missing opening boundary", async () => {
  const { seed } = await fixtures();
  const { error } = await parseUntilError([seed], { strict: true });
  assertParseError(error, /does not start with the boundary/);
});

Deno.test("readMultipart mixes parts with and without Content-Length", async () => {
  const { jpegs } = await fixtures();
  const input = bytes(
    `--${B}\r\nContent-Length: ${jpegs[0].length}\r\n\r\n`,
    jpegs[0],
    `\r\n--${B}\r\nContent-Type: image/jpeg\r\n\r\n`,
    jpegs[1],
    `\r\n--${B}\r\n\r\n`,
    jpegs[2],
    `\r\n--${B}--`,
  );
  for (let cut = 0; cut <= input.length; cut += 7) {
    const parts = await parse(cutAt(input, cut));
    assert.deepEqual(parts.map((p) => p.body), jpegs, `cut at ${cut}`);
    assert.equal([...parts[2].headers].length, 0);
  }
});

Deno.test("readMultipart skips a preamble in non-strict mode only", async () => {
  const { jpegs, full } = await fixtures();
  const preamble = bytes(
    "This is a multi-part message.\r\nNot --",
    B,
    " at a line start\r\n",
    full,
  );
  for (let cut = 0; cut <= 80; cut++) {
    const parts = await parse(cutAt(preamble, cut));
    assert.deepEqual(parts.map((p) => p.body), jpegs, `cut at ${cut}`);
  }
  const { error } = await parseUntilError([preamble], { strict: true });
  assertParseError(error, /does not start with the boundary "--tuchuanframe"/);
});

Deno.test("readMultipart tolerates LF line endings and padding in non-strict mode", async () => {
  const { jpegs } = await fixtures();
  const input = bytes(
    `--${B} \nContent-Type: image/jpeg\nContent-Length: ${jpegs[0].length}\n\n`,
    jpegs[0],
    `\n--${B}\t\nContent-Type:image/jpeg\n\n`,
    jpegs[1],
    `\n--${B}--\n`,
  );
  const parts = await parse([input]);
  assert.deepEqual(parts.map((p) => p.body), jpegs.slice(0, 2));
  assert.equal(parts[1].headers.get("content-type"), "image/jpeg");
  const { error } = await parseUntilError([input], { strict: true });
  assertParseError(error, /not followed by CRLF/);
});

Deno.test("readMultipart does not take a longer boundary for the delimiter", async () => {
  const body = bytes("abc\r\n--", B, "X not a delimiter\r\n");
  const input = bytes(`--${B}\r\n\r\n`, body, `\r\n--${B}--\r\n`);
  for (let cut = 0; cut <= input.length; cut++) {
    const parts = await parse(cutAt(input, cut));
    assert.deepEqual(parts.map((p) => p.body), [body], `cut at ${cut}`);
  }
});

Deno.test("readMultipart stops at the close delimiter and cancels the rest", async () => {
  const { jpegs } = await fixtures();
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes(`--${B}\r\nContent-Length: ${jpegs[0].length}\r\n\r\n`, jpegs[0]));
      controller.enqueue(bytes(`\r\n--${B}--\r\nepilogue\r\n--${B}\r\n`));
      // Never closes: only the close delimiter can end the iteration.
    },
    cancel() {
      cancelled = true;
    },
  });
  for (const strict of [true, false]) {
    const parts: MultipartPart[] = [];
    const source = strict ? stream : streamOf([
      bytes(`--${B}\r\nContent-Length: ${jpegs[0].length}\r\n\r\n`, jpegs[0]),
      bytes(`\r\n--${B}--\r\nepilogue`),
    ]);
    for await (const part of readMultipart(source, B, { strict })) parts.push(part);
    assert.deepEqual(parts.map((p) => p.body), [jpegs[0]]);
    assert.equal(source.locked, false);
  }
  assert.ok(cancelled);
});

Deno.test("readMultipart throws in strict mode when the stream ends inside a part", async () => {
  const { jpegs, full } = await fixtures();
  // Up to the close delimiter's "--" every prefix is cut inside (or right after) a part.
  const closed = full.length - 2;
  for (let length = 0; length < closed; length++) {
    const { parts, error } = await parseUntilError([full.slice(0, length)], { strict: true });
    assertParseError(error, /^Stream ended (inside part \d|after part \d|before the first)/);
    assert.deepEqual(parts.map((p) => p.body), jpegs.slice(0, parts.length), `length ${length}`);
  }
  for (let length = closed; length <= full.length; length++) {
    const parts = await parse([full.slice(0, length)], { strict: true });
    assert.deepEqual(parts.map((p) => p.body), jpegs, `length ${length}`);
  }
  const { error } = await parseUntilError([bytes(`--${B}\r\nContent-Length: 10\r\n\r\nabc`)], {
    strict: true,
  });
  assertParseError(error, /^Stream ended inside part 1$/);
});

Deno.test("readMultipart ends silently in non-strict mode when the stream is cut", async () => {
  const { jpegs, full, early, seed } = await fixtures();
  for (const [input, boundary] of [[full, B], [early, B], [seed, "frame"]] as const) {
    const counts = new Set<number>();
    for (let length = 0; length <= input.length; length += 3) {
      const parts = await parse([input.slice(0, length)], {}, boundary);
      counts.add(parts.length);
      // Only whole parts come out, in order.
      for (const [k, part] of parts.entries()) {
        const body = boundary === "frame" ? part.body.subarray(0, -2) : part.body;
        assert.deepEqual(body, jpegs[k], `length ${length}, part ${k}`);
      }
    }
    // Every number of whole parts shows up along the way, up to all of them.
    assert.deepEqual([...counts].sort(), [0, 1, 2, 3]);
  }
});

Deno.test("readMultipart enforces the header size limit", async () => {
  const header = "Content-Length: 4\r\nX-Long: " + "a".repeat(100) + "\r\n\r\n";
  const input = bytes(`--${B}\r\n`, header, "body", `\r\n--${B}--\r\n`);
  for (const strict of [true, false]) {
    const ok = await parse([input], { strict, maxHeaderBytes: header.length });
    assert.equal(ok.length, 1);
    const { error } = await parseUntilError(cutAt(input, 30), {
      strict,
      maxHeaderBytes: header.length - 1,
    });
    assertParseError(error, /^Header block of part 1 is longer than 130 bytes$/);
  }
  // A header block that never ends is refused without waiting for the end of the stream.
  const endless = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes(`--${B}\r\nX-Junk: `, "b".repeat(20_000)));
    },
  });
  await assert.rejects(async () => {
    for await (const _ of readMultipart(endless, B)) { /* not reached */ }
  }, /Header block of part 1 is longer than 16384 bytes/);
});

Deno.test("readMultipart enforces the part size limit", async () => {
  const { jpegs } = await fixtures();
  const withLength = bytes(`--${B}\r\nContent-Length: ${jpegs[0].length}\r\n\r\n`, jpegs[0]);
  for (const strict of [true, false]) {
    const { error } = await parseUntilError([withLength], { strict, maxPartBytes: 100 });
    assertParseError(error, /^Part 1 is larger than 100 bytes/);
  }
  const delimited = bytes(`--${B}\r\n\r\n`, jpegs[0], `\r\n--${B}--`);
  const { error } = await parseUntilError(cutAt(delimited, 50, 150, 300), { maxPartBytes: 100 });
  assertParseError(error, /^Part 1 is larger than 100 bytes/);
  const exact = await parse([delimited], { maxPartBytes: jpegs[0].length });
  assert.deepEqual(exact.map((p) => p.body), [jpegs[0]]);
});

Deno.test("readMultipart rejects malformed framing in strict mode", async () => {
  const cases: [string, RegExp][] = [
    [`--${B}\r\nContent-Length: 3\r\n\r\nabcX--${B}--`, /^Part 1 is not followed by the boundary$/],
    [`--${B}\r\nContent-Length: x\r\n\r\nabc\r\n--${B}--`, /^Part 1 has an invalid Content-Length/],
    [`--${B}\r\nBroken header\r\n\r\n`, /^Header line "Broken header" of part 1 is not/],
    [`--${B}\r\nA: b\n\r\n`, /^Header line of part 1 does not end with CRLF$/],
    [`--${B}XY`, /^Boundary before part 1 is not followed by CRLF or "--"$/],
    ["", /^Stream ended before the first boundary$/],
  ];
  for (const [input, pattern] of cases) {
    const { error } = await parseUntilError([encoder.encode(input)], { strict: true });
    assertParseError(error, pattern);
  }
  // The same inputs in non-strict mode never throw.
  for (const [input] of cases) {
    assert.equal((await parseUntilError([encoder.encode(input)])).error, undefined, input);
  }
});

Deno.test("readMultipart reads large parts from small chunks", async () => {
  const big = new Uint8Array(1_000_000).map((_, i) => (i * 7919) & 0xff);
  // Make sure no accidental delimiter hides in the body.
  big.fill(0x55, 0, 10);
  for (const withLength of [true, false]) {
    const header = withLength ? `Content-Length: ${big.length}\r\n\r\n` : "\r\n";
    const input = bytes(`--${B}\r\n`, header, big, `\r\n--${B}\r\n`, header, big, `\r\n--${B}--`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < input.length; i += 4093) chunks.push(input.slice(i, i + 4093));
    const parts = await parse(chunks, { strict: withLength });
    assert.equal(parts.length, 2);
    assert.deepEqual(parts[0].body, big);
    assert.deepEqual(parts[1].body, big);
  }
});

Deno.test("readMultipart cancels the stream and releases it when the consumer stops", async () => {
  const { jpegs } = await fixtures();
  let pulls = 0;
  let cancelled = false;
  // An endless stream of parts, produced only as they are read.
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls === 0) controller.enqueue(encoder.encode(`--${B}\r\n`));
      controller.enqueue(bytes(fullPart(jpegs[pulls % 3], String(pulls)), "\r\n"));
      pulls++;
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  let count = 0;
  for await (const part of readMultipart(stream, B, { strict: true })) {
    assert.deepEqual(part.body, jpegs[count % 3]);
    assert.equal(part.headers.get("x-timestamp"), String(count));
    if (++count === 5) break;
  }
  assert.ok(cancelled);
  assert.equal(stream.locked, false);
});

Deno.test("readMultipart passes a stream error through and releases the stream", async () => {
  const failure = new Error("connection reset");
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`--${B}\r\nContent-Length: 100\r\n\r\nabc`));
      controller.error(failure);
    },
  });
  await assert.rejects(async () => {
    for await (const _ of readMultipart(stream, B)) { /* not reached */ }
  }, (error: unknown) => error === failure);
  assert.equal(stream.locked, false);
});

Deno.test("readMultipart validates its arguments", async () => {
  const empty = () => streamOf([]);
  await assert.rejects(() => readMultipart(empty(), "").next(), TypeError);
  await assert.rejects(() => readMultipart(empty(), "a\r\nb").next(), /"a\\r\\nb"/);
  await assert.rejects(
    () => readMultipart(empty(), B, { maxHeaderBytes: 0 }).next(),
    (error: unknown) => error instanceof RangeError && /Max header bytes .* 0/.test(error.message),
  );
  await assert.rejects(
    () => readMultipart(empty(), B, { maxPartBytes: 1.5 }).next(),
    (error: unknown) => error instanceof RangeError && /Max part bytes .* 1\.5/.test(error.message),
  );
});

Deno.test("MultipartParseError has its name and keeps its cause", () => {
  const cause = new TypeError("inner");
  const error = new MultipartParseError("Outer", { cause });
  assert.equal(error.name, "MultipartParseError");
  assert.equal(error.cause, cause);
  assert.ok(error instanceof Error);
});
