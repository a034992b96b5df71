/**
 * The outside tools some tests need (ffmpeg, browsers, GStreamer, OpenCV, promtool, qemu, curl,
 * openssl), found once. A test that needs one is written `Deno.test(requires(["ffmpeg"], {…}))`:
 * where the tool is missing it is ignored, and one line per test says which tool and how to get
 * it (`.ci/run` installs them all).
 *
 * @module
 */

/** The tools, and how to install each on Debian. */
export const TOOL_PACKAGES = {
  ffmpeg: "apt-get install ffmpeg",
  chromium: "apt-get install chromium",
  firefox: "apt-get install firefox-esr",
  webkit: "apt-get install webkit2gtk-driver xvfb",
  gstreamer: "apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good",
  opencv: "apt-get install python3-opencv",
  promtool: "apt-get install prometheus",
  curl: "apt-get install curl",
  openssl: "apt-get install openssl",
  qemu: "make camera-vm (qemu-system-x86, busybox-static, kmod, v4l-utils and a kernel)",
} as const;

/** A tool's name. */
export type Tool = keyof typeof TOOL_PACKAGES;

async function runs(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "null" })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The directory the camera VM's files live in (see tools/camera_vm/). */
export const CAMERA_VM_DIR = Deno.env.get("TUCHUAN_VM_DIR") ??
  new URL("../.tools/camera-vm", import.meta.url).pathname;

const found: Record<Tool, boolean> = {
  ffmpeg: await runs("ffmpeg", ["-hide_banner", "-version"]),
  chromium: exists("/usr/bin/chromium"),
  firefox: exists("/usr/lib/firefox-esr/firefox-esr"),
  webkit: exists("/usr/bin/WebKitWebDriver") && exists("/usr/bin/Xvfb"),
  gstreamer: await runs("gst-inspect-1.0", ["souphttpsrc"]) &&
    await runs("gst-inspect-1.0", ["multipartdemux"]) && await runs("gst-inspect-1.0", ["jpegdec"]),
  opencv: await runs("/usr/bin/python3", ["-c", "import cv2"]),
  promtool: await runs("promtool", ["--version"]),
  curl: await runs("curl", ["--version"]),
  openssl: await runs("openssl", ["version"]),
  qemu: await runs("qemu-system-x86_64", ["--version"]) &&
    exists(`${CAMERA_VM_DIR}/vmlinuz`) && exists(`${CAMERA_VM_DIR}/initrd.cpio.gz`),
};

/** True when `tool` is here. */
export function have(tool: Tool): boolean {
  return found[tool];
}

/**
 * The test definition, ignored when one of `tools` is missing, and then saying which one and how
 * to get it: `Deno.test(requires(["ffmpeg"], { name: "…", async fn() { … } }))`.
 */
export function requires(tools: readonly Tool[], def: Deno.TestDefinition): Deno.TestDefinition {
  const missing = tools.filter((t) => !found[t]);
  if (missing.length > 0) {
    console.warn(
      `"${def.name}" skipped: needs ${
        missing.map((t) => `${t} (${TOOL_PACKAGES[t]})`).join(" and ")
      }`,
    );
  }
  return { ...def, ignore: def.ignore || missing.length > 0 };
}
