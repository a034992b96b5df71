/**
 * Real MJPEG clients against `/stream`: ffmpeg, GStreamer and OpenCV, the programs users point
 * at a camera server. Each must decode the frames at the configured size, from the ffmpeg
 * test pattern and from the replay of the bundled fixture, and ffmpeg also through the
 * mjpg-streamer alias `/?action=stream`. A missing tool ignores its tests and says which
 * (tools.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Config } from "../src/config/config.ts";
import { startServer } from "../src/server.ts";
import { killAfter } from "./test_utils.ts";
import { requires, type Tool } from "./tools.ts";

const FIXTURE = new URL("../fixtures/testcard.mjpeg", import.meta.url).pathname;
/** Upper bound for one external client; it is killed past this, never waited on forever. */
const TOOL_TIMEOUT_MS = 30_000;

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs an external client, killing it after TOOL_TIMEOUT_MS and in any case on the way out. */
async function runTool(cmd: string, args: string[]): Promise<ToolResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = killAfter(child, TOOL_TIMEOUT_MS);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      timedOut: killer.timedOut(),
    };
  } finally {
    killer.cancel();
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited normally: nothing to kill.
    }
  }
}

/** The failure message: the tool's own last words are what explains a failure. */
function explain(what: string, r: ToolResult): string {
  const tail = (r.stderr + r.stdout).trim().split(/\r?\n|\r/).slice(-8).join("\n");
  return `${what} (exit ${r.code}${r.timedOut ? ", killed after timeout" : ""}):\n${tail}`;
}

const SOURCES: { name: string; options: Partial<Config>; tools: Tool[] }[] = [
  {
    name: "testsrc",
    options: { source: "testsrc", size: { width: 320, height: 240 }, fps: 15 },
    tools: ["ffmpeg"],
  },
  // The fixture is 320x240 at 10 fps; it plays at its recorded timing.
  { name: "replay", options: { source: FIXTURE }, tools: [] },
];

/** Runs `body` against a fresh server on a free port, stopping it whatever happens. */
async function withServer(
  options: Partial<Config>,
  body: (base: string) => Promise<void>,
): Promise<void> {
  const server = await startServer({ port: 0, host: "127.0.0.1", ...options });
  try {
    await body(server.url);
  } finally {
    await server.stop();
  }
}

/** The number of frames ffmpeg reports in its last progress line (`frame=   30`). */
function ffmpegFrames(stderr: string): number {
  const all = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  return all.length ? Number(all.at(-1)![1]) : 0;
}

/** Size of ffmpeg's decoded input video stream, from `Stream #0:0: Video: mjpeg ..., WxH`. */
function ffmpegInputSize(stderr: string): string | null {
  const input = stderr.split(/^Output #0/m)[0];
  return /Stream #0:0.*Video:.*?\b(\d{2,5}x\d{2,5})\b/.exec(input)?.[1] ?? null;
}

async function ffmpegReads(url: string): Promise<void> {
  const r = await runTool("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-i",
    url,
    "-frames:v",
    "30",
    "-f",
    "null",
    "-",
  ]);
  assert.equal(r.code, 0, explain("ffmpeg failed to read the stream", r));
  assert.equal(ffmpegFrames(r.stderr), 30, explain("ffmpeg did not decode 30 frames", r));
  assert.equal(ffmpegInputSize(r.stderr), "320x240", explain("ffmpeg saw another size", r));
}

for (const src of SOURCES) {
  Deno.test(requires(["ffmpeg", ...src.tools], {
    name: `ffmpeg decodes 30 frames of /stream (${src.name})`,
    async fn() {
      await withServer(src.options, (base) => ffmpegReads(`${base}stream`));
    },
  }));

  Deno.test(requires(["gstreamer", ...src.tools], {
    name: `GStreamer souphttpsrc ! multipartdemux ! jpegdec decodes 20 frames (${src.name})`,
    async fn() {
      await withServer(src.options, async (base) => {
        // -v prints the negotiated caps (the decoded size) and, with silent=false, one
        // "chain" line per buffer reaching the sink: the frame count.
        const r = await runTool("gst-launch-1.0", [
          "-v",
          "souphttpsrc",
          `location=${base}stream`,
          "!",
          "multipartdemux",
          "!",
          "jpegdec",
          "!",
          "fakesink",
          "num-buffers=20",
          "silent=false",
        ]);
        assert.equal(r.code, 0, explain("gst-launch-1.0 failed", r));
        const chains = r.stdout.split("\n").filter((l) => /fakesink0.*chain/.test(l)).length;
        assert.equal(chains, 20, explain("GStreamer did not decode 20 frames", r));
        assert.match(
          r.stdout,
          /jpegdec0\.GstPad:src: caps = video\/x-raw.*width=\(int\)320, height=\(int\)240/,
          explain("jpegdec did not decode 320x240 frames", r),
        );
      });
    },
  }));

  Deno.test(requires(["opencv", ...src.tools], {
    name: `OpenCV VideoCapture reads 20 frames of 320x240 (${src.name})`,
    async fn() {
      await withServer(src.options, async (base) => {
        const script = [
          "import cv2, json, sys",
          "cap = cv2.VideoCapture(sys.argv[1])",
          "shapes = []",
          "for _ in range(20):",
          "    ok, frame = cap.read()",
          "    if not ok: break",
          "    shapes.append(list(frame.shape))",
          "cap.release()",
          "print(json.dumps(shapes))",
        ].join("\n");
        const r = await runTool("/usr/bin/python3", ["-c", script, `${base}stream`]);
        assert.equal(r.code, 0, explain("python3/cv2 failed", r));
        const shapes = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "[]") as number[][];
        assert.equal(shapes.length, 20, explain("OpenCV did not read 20 frames", r));
        for (const shape of shapes) assert.deepEqual(shape, [240, 320, 3]);
      });
    },
  }));
}

Deno.test(requires(["ffmpeg"], {
  name: "ffmpeg reads the mjpg-streamer alias /?action=stream",
  async fn() {
    await withServer(SOURCES[1].options, (base) => ffmpegReads(`${base}?action=stream`));
  },
}));
