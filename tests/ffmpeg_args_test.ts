import assert from "node:assert/strict";
import {
  commandLine,
  ffmpegArgs,
  ffmpegFilters,
  type FfmpegJob,
  qualityToQscale,
  splitCredentials,
} from "../src/source/ffmpeg_args.ts";
import { systemClock } from "../src/core/clock.ts";
import { jpegInfo } from "../src/jpeg/jpeg_info.ts";
import { ffmpegFrames } from "../src/source/ffmpeg_frames.ts";
import { SourceError } from "../src/source/source.ts";
import { ffmpegPid, isAlive } from "./stream_helpers.ts";
import { requires } from "./tools.ts";

const TESTSRC: FfmpegJob = {
  input: { kind: "testsrc", size: { width: 160, height: 120 }, fps: 25 },
  output: "mjpeg",
  fps: null,
  scale: null,
  orient: null,
  quality: 70,
};

Deno.test("quality 1..100 maps onto ffmpeg's qscale 31..2", () => {
  assert.equal(qualityToQscale(100), 2);
  assert.equal(qualityToQscale(1), 31);
  assert.ok(qualityToQscale(70) < qualityToQscale(30));
});

Deno.test("ffmpeg arguments: copy passes JPEG packets, pixels come as PAM images, JPEGs at --quality", () => {
  const copy = ffmpegArgs({
    ...TESTSRC,
    input: { kind: "folder", dir: "/frames/", fps: 30 },
    output: "copy",
  });
  assert.deepEqual(copy.outputOptions, ["-an", "-c:v", "copy"]);
  assert.equal(copy.format, "image2pipe");
  assert.equal(copy.input, "/frames/*.[jJ][pP]*[gG]");
  const raw = ffmpegArgs({ ...TESTSRC, output: "rgba" });
  assert.equal(raw.format, "image2pipe");
  assert.deepEqual(raw.outputOptions.slice(-4), ["-pix_fmt", "rgba", "-c:v", "pam"]);
  const mjpeg = ffmpegArgs({ ...TESTSRC, quality: 100 });
  assert.equal(mjpeg.format, "mjpeg");
  assert.equal(mjpeg.outputOptions[mjpeg.outputOptions.indexOf("-q:v") + 1], "2");
  assert.equal(mjpeg.input, "testsrc2=size=160x120:rate=25");
});

Deno.test("a camera is asked for the format, size and rate chosen for it", () => {
  const cam = ffmpegArgs({
    ...TESTSRC,
    input: {
      kind: "v4l2",
      device: "/dev/video0",
      inputFormat: "yuyv422",
      size: { width: 640, height: 480 },
      fps: 25,
    },
  });
  const opts = cam.inputOptions.join(" ");
  assert.match(opts, /-f v4l2 -input_format yuyv422 -video_size 640x480 -framerate 25/);
  assert.equal(cam.input, "/dev/video0");
});

Deno.test("filters: rate, then mirror and turn, then the box in fit, stretch or crop", () => {
  assert.deepEqual(ffmpegFilters(TESTSRC), []);
  assert.deepEqual(
    ffmpegFilters({
      ...TESTSRC,
      fps: 10,
      orient: { mirror: true, turn: 90 },
      scale: { box: { width: 640, height: 480 }, mode: "fit" },
    }),
    [
      "fps=10",
      "hflip",
      "transpose=clock",
      "scale=640:480:force_original_aspect_ratio=decrease:force_divisible_by=2",
    ],
  );
  assert.deepEqual(ffmpegFilters({ ...TESTSRC, orient: { mirror: false, turn: 270 } }), [
    "transpose=cclock",
  ]);
  assert.deepEqual(
    ffmpegFilters({ ...TESTSRC, scale: { box: { width: 320, height: 240 }, mode: "stretch" } }),
    ["scale=320:240"],
  );
  assert.deepEqual(
    ffmpegFilters({ ...TESTSRC, scale: { box: { width: 320, height: 240 }, mode: "crop" } }),
    ["scale=320:240:force_original_aspect_ratio=increase", "crop=320:240"],
  );
});

Deno.test("an HTTP source's credentials go in a header, never in ffmpeg's command line", () => {
  const args = ffmpegArgs({
    ...TESTSRC,
    input: { kind: "url", url: "http://admin:hunter2@cam.local/video.mp4?x=1" },
  });
  assert.equal(args.input, "http://cam.local/video.mp4?x=1");
  const line = commandLine(args);
  assert.doesNotMatch(line, /hunter2/);
  const header = args.inputOptions[args.inputOptions.indexOf("-headers") + 1];
  assert.equal(header, `Authorization: Basic ${btoa("admin:hunter2")}\r\n`);
  assert.deepEqual(splitCredentials("rtsp://u:p@cam/live"), {
    url: "rtsp://u:p@cam/live",
    authorization: null,
  });
});

Deno.test(requires(["ffmpeg"], {
  name: "ffmpeg testsrc yields RGBA frames and JPEGs of the asked size, and leaves no process",
  async fn() {
    for (const output of ["rgba", "mjpeg"] as const) {
      const ac = new AbortController();
      const frames = [];
      let pid: number | null = null;
      for await (const f of ffmpegFrames({ ...TESTSRC, output }, ac.signal, systemClock)) {
        pid ??= ffmpegPid();
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
      assert.ok(pid !== null, "no ffmpeg child was seen");
      assert.equal(isAlive(pid), false, "ffmpeg is still alive after the abort");
    }
  },
}));

Deno.test(requires(["ffmpeg"], {
  name: "ffmpeg failing to open its input throws SourceError with ffmpeg's own words",
  async fn() {
    const ac = new AbortController();
    await assert.rejects(async () => {
      for await (
        const _ of ffmpegFrames(
          { ...TESTSRC, input: { kind: "file", path: "/nonexistent/clip.mp4" } },
          ac.signal,
          systemClock,
        )
      ) { /* nothing */ }
    }, (err: unknown) => err instanceof SourceError && /No such file/i.test(err.message));
  },
}));
