/**
 * The machine a benchmark ran on, printed at the top of every run: numbers mean little without
 * the core count, CPU model and tool versions next to them.
 *
 * @module
 */
import { readProcTextOrNull } from "../src/core/proc_read.ts";

/** What is known about the machine and tools; "?" where a probe failed. */
export interface MachineInfo {
  readonly nproc: string;
  readonly cpuModel: string;
  readonly memTotal: string;
  readonly kernel: string;
  readonly loadAverage: string;
  readonly deno: string;
  readonly ffmpeg: string;
  readonly python: string;
}

/** stdout of a command, trimmed, or "?" when it cannot run. */
async function run(command: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout).trim() ||
      new TextDecoder().decode(out.stderr).trim();
    return text || "?";
  } catch {
    return "?";
  }
}

/** A /proc file's text, or "" when unreadable (`/proc/cpuinfo` is ~1 KiB per core). */
function readOr(path: string): string {
  return readProcTextOrNull(path, 1024 * 1024) ?? "";
}

/** Probes the machine (a few short commands). */
export async function machineInfo(python: string): Promise<MachineInfo> {
  const cpuinfo = readOr("/proc/cpuinfo");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ??
    /^Model\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "?";
  const mem = /^MemTotal:\s+(\d+) kB/m.exec(readOr("/proc/meminfo"));
  const [nproc, ffmpeg, pythonVersion, flask] = await Promise.all([
    run("nproc", []),
    run("ffmpeg", ["-version"]),
    run(python, ["--version"]),
    run(python, ["-c", "import flask; print(flask.__version__)"]),
  ]);
  return {
    nproc,
    cpuModel: model.trim(),
    memTotal: mem ? `${(Number(mem[1]) / 1024 / 1024).toFixed(1)} GiB` : "?",
    kernel: Deno.osRelease(),
    loadAverage: Deno.loadavg().map((x) => x.toFixed(2)).join(" "),
    deno:
      `deno ${Deno.version.deno} (v8 ${Deno.version.v8}, typescript ${Deno.version.typescript})`,
    ffmpeg: ffmpeg.split("\n")[0],
    python: `${pythonVersion.split("\n")[0]}, flask ${flask.split("\n").pop()}`,
  };
}

/** The info as a short Markdown list. */
export function renderMachineInfo(m: MachineInfo): string {
  return [
    "## Machine",
    "",
    `- nproc: ${m.nproc}; CPU: ${m.cpuModel}; memory: ${m.memTotal}`,
    `- kernel: ${m.kernel}; load average at start: ${m.loadAverage}`,
    `- ${m.deno}`,
    `- ${m.ffmpeg}`,
    `- seed: ${m.python}`,
  ].join("\n");
}
