import assert from "node:assert/strict";
import {
  ffmpegArgs,
  ffmpegAvailable,
  ffmpegFrames,
  qualityToQscale,
} from "../src/source/ffmpeg.ts";
import { systemClock } from "../src/clock.ts";
import { jpegInfo } from "../src/jpeg_info.ts";
import { SourceError } from "../src/source/source.ts";

const hasFfmpeg = await ffmpegAvailable();
const spec = {
  kind: "testsrc" as const,
  input: "testsrc",
  width: 160,
  height: 120,
  fps: 25,
  quality: 70,
};

Deno.test("quality 1..100 maps onto ffmpeg's qscale 31..2", () => {
  assert.equal(qualityToQscale(100), 2);
  assert.equal(qualityToQscale(1), 31);
  assert.ok(qualityToQscale(70) < qualityToQscale(30));
});

Deno.test("ffmpeg arguments: passthrough copies, pixels come as rgba at the asked size", () => {
  const copy = ffmpegArgs({ ...spec, kind: "folder", input: "/frames/", output: "copy" });
  assert.deepEqual(copy.outputOptions, ["-an", "-c:v", "copy"]);
  assert.equal(copy.input, "/frames/*.[jJ][pP]*[gG]");
  const raw = ffmpegArgs({ ...spec, output: "rgba" });
  assert.equal(raw.format, "rawvideo");
  assert.ok(raw.outputOptions.includes("rgba"));
  assert.ok(raw.outputOptions.includes("fps=25,scale=160:120"));
  const cam = ffmpegArgs({ ...spec, kind: "v4l2", input: "/dev/video0", output: "copy" });
  assert.ok(cam.inputOptions.join(" ").includes("-input_format mjpeg"));
});

Deno.test({
  name: "ffmpeg testsrc yields raw frames and JPEGs of the asked size, and leaves no process",
  ignore: !hasFfmpeg,
  async fn() {
    for (const output of ["rgba", "encode"] as const) {
      const ac = new AbortController();
      let pid = 0;
      const frames = [];
      for await (
        const f of ffmpegFrames({ ...spec, output }, ac.signal, systemClock, {
          onSpawn: (p) => pid = p,
        })
      ) {
        frames.push(f);
        if (frames.length === 3) ac.abort();
      }
      assert.equal(frames.length, 3);
      for (const f of frames) {
        assert.equal(f.width, 160);
        assert.equal(f.height, 120);
        if (output === "rgba") assert.equal(f.data.byteLength, 160 * 120 * 4);
        else assert.deepEqual(jpegInfo(f.data), { width: 160, height: 120 });
      }
      assert.ok(pid > 0);
      assert.throws(() => Deno.kill(pid, "SIGCONT"), "ffmpeg is still alive after the abort");
    }
  },
});

Deno.test({
  name: "ffmpeg failing to open its input throws SourceError with ffmpeg's own words",
  ignore: !hasFfmpeg,
  async fn() {
    const ac = new AbortController();
    await assert.rejects(async () => {
      for await (
        const _ of ffmpegFrames(
          { ...spec, kind: "file", input: "/nonexistent/clip.mp4", output: "encode" },
          ac.signal,
          systemClock,
        )
      ) { /* nothing */ }
    }, (err: unknown) => err instanceof SourceError && /No such file/i.test(err.message));
  },
});
