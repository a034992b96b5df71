import assert from "node:assert/strict";
import {
  CLOSE_ADVANCE,
  CLOSE_NORMAL,
  formatTimestamp,
  OPEN_ADVANCE,
  OPEN_NORMAL,
  partBytes,
} from "../src/multipart/multipart_writer.ts";
import { STREAM_HEADERS } from "../src/http/protocol.ts";
import { readMultipart } from "../src/multipart/multipart_reader.ts";
import type { EncodedFrame } from "../src/core/frame.ts";

const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
const frame = (seq: number, body: string, at = 1_764_000_000_123.456): EncodedFrame => ({
  seq,
  jpeg: new TextEncoder().encode(body),
  width: 2,
  height: 2,
  capturedAt: at,
});

Deno.test("normal mode writes the opening boundary, full part headers and the next delimiter at once", () => {
  const a = frame(1, "JPEG-A");
  const b = frame(2, "JPEG-BB", 1_764_000_000_223.5);
  const wire = text(OPEN_NORMAL) + text(partBytes(a, "normal")) + text(partBytes(b, "normal")) +
    text(CLOSE_NORMAL);
  assert.equal(
    wire,
    "--tuchuanframe" +
      "\r\nContent-Type: image/jpeg\r\nContent-Length: 6\r\nX-Timestamp: 1764000000.123456\r\n\r\nJPEG-A" +
      "\r\n--tuchuanframe" +
      "\r\nContent-Type: image/jpeg\r\nContent-Length: 7\r\nX-Timestamp: 1764000000.223500\r\n\r\nJPEG-BB" +
      "\r\n--tuchuanframe" +
      "--\r\n",
  );
});

Deno.test("advance mode sends the next part's header block right after each frame", () => {
  const a = frame(1, "JPEG-A");
  const wire = text(OPEN_ADVANCE) + text(partBytes(a, "advance")) + text(CLOSE_ADVANCE);
  assert.equal(
    wire,
    "--tuchuanframe\r\nContent-Type: image/jpeg\r\n\r\n" +
      "JPEG-A\r\n--tuchuanframe\r\nContent-Type: image/jpeg\r\n\r\n" +
      "\r\n--tuchuanframe--\r\n",
  );
});

Deno.test("part bytes are built once per frame and mode and shared", () => {
  const a = frame(1, "X");
  assert.equal(partBytes(a, "normal"), partBytes(a, "normal"));
  assert.notEqual(partBytes(a, "normal"), partBytes(a, "advance"));
});

Deno.test("what the writer produces reads back with the strict parser", async () => {
  const frames = [frame(1, "one"), frame(2, "three"), frame(3, "")];
  const chunks = [OPEN_NORMAL, ...frames.map((f) => partBytes(f, "normal")), CLOSE_NORMAL];
  const parts = [];
  for await (
    const p of readMultipart(ReadableStream.from(chunks), "tuchuanframe", { strict: true })
  ) {
    parts.push(p);
  }
  assert.deepEqual(parts.map((p) => text(p.body)), ["one", "three", ""]);
  assert.equal(parts[1].headers.get("x-timestamp"), formatTimestamp(frames[1].capturedAt));
});

Deno.test("formatTimestamp gives unix seconds with microseconds", () => {
  assert.equal(formatTimestamp(1_000), "1.000000");
  assert.equal(formatTimestamp(1_764_000_000_000.5), "1764000000.000500");
});

Deno.test("stream headers forbid caching and sniffing", () => {
  assert.equal(STREAM_HEADERS["Content-Type"], "multipart/x-mixed-replace; boundary=tuchuanframe");
  assert.equal(STREAM_HEADERS["Cache-Control"], "no-store, no-cache, must-revalidate, max-age=0");
  assert.equal(STREAM_HEADERS["Pragma"], "no-cache");
  assert.equal(STREAM_HEADERS["X-Content-Type-Options"], "nosniff");
});
