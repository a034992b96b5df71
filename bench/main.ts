/**
 * `make bench`: tuchuan against the seed Flask server, scenario by scenario, on 127.0.0.1.
 *
 *     deno run -A bench/main.ts [--quick] [--scenario a,b] [--json FILE] [--servers tuchuan,seed]
 *
 * Each scenario starts a fresh server of each kind in turn (never both at once: they would share
 * the cores), loads it, stops it, and prints a Markdown table: metric | tuchuan | seed | ratio.
 * Every process started is killed on the way out, including on errors, Ctrl-C and the overall
 * deadline.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { killAll, liveLabels } from "./child_processes.ts";
import { machineInfo, renderMachineInfo } from "./machine_info.ts";
import { type BenchConfig, errorMessage, type Scenario, type ScenarioResult } from "./scenario.ts";
import { removeStandIns } from "./camera_inputs.ts";
import { runCommand } from "../src/core/run_command.ts";
import { alwaysOnScenario } from "./scenarios/always_on.ts";
import { cameraScenario } from "./scenarios/camera.ts";
import { cameras4Scenario } from "./scenarios/cameras4.ts";
import { churnScenario } from "./scenarios/churn.ts";
import { clientsScenario } from "./scenarios/clients.ts";
import { pairedScenario } from "./scenarios/paired.ts";
import { encodeScenario } from "./scenarios/encode.ts";
import { ffmpegOptionsScenario } from "./scenarios/ffmpeg_options.ts";
import { idleScenario } from "./scenarios/idle.ts";
import { maxViewersScenario } from "./scenarios/max_viewers.ts";
import { slowScenario } from "./scenarios/slow.ts";
import type { ServerKind } from "./server_process.ts";
import { renderScenario, renderSummary } from "./table.ts";

/** Every scenario, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  clientsScenario(1),
  pairedScenario("fresh"),
  clientsScenario(50),
  clientsScenario(200, { light: true }),
  slowScenario,
  churnScenario,
  encodeScenario,
  idleScenario,
  alwaysOnScenario,
  cameraScenario,
  ffmpegOptionsScenario,
  cameras4Scenario,
  maxViewersScenario,
  // Last: two minutes of streaming before its windows.
  pairedScenario("settled"),
];

/** V8 flags tuchuan runs with in production (`make run`, `make binary`). */
const V8_FLAGS = "--max-semi-space-size=2,--expose-gc";

/** Hard limit on a whole run; past it everything is killed (a hung server must not hang CI). */
const DEADLINE_S = { full: 1200, quick: 300 };

const USAGE = `tuchuan benchmark: tuchuan vs the seed Flask server, on 127.0.0.1 only.

usage: deno run -A bench/main.ts [options]

  --quick              shorten every scenario (smoke run, about a minute)
  --scenario a,b       run only these scenarios (default: all): ${
  SCENARIOS.map((s) => s.name).join(", ")
}
  --servers a,b        servers to compare (default: tuchuan,seed)
  --json FILE          also write all results, with raw measurements, as JSON
  --frames DIR         frame folder for make_frames.sh (default /tmp/mjpeg-frames)
  --tuchuan-bin FILE   run this compiled tuchuan instead of 'deno run -A main.ts'
  --help               this text
`;

/** Parsed command line. */
interface Options {
  readonly quick: boolean;
  readonly scenarios: Scenario[];
  readonly servers: ServerKind[];
  readonly json?: string;
  readonly frames: string;
  readonly tuchuanBin?: string;
}

/** Splits repeatable, comma-separated option values. */
function list(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/** Parses argv; throws a usage error for unknown options or names. */
export function parseOptions(args: string[]): Options | "help" {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      scenario: { type: "string", multiple: true },
      servers: { type: "string", multiple: true },
      json: { type: "string" },
      frames: { type: "string", default: "/tmp/mjpeg-frames" },
      "tuchuan-bin": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  const names = list(values.scenario);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(", ")}`);
  const servers = list(values.servers);
  for (const s of servers) {
    if (s !== "tuchuan" && s !== "seed") throw new Error(`unknown server ${s}`);
  }
  return {
    quick: values.quick,
    scenarios: names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : [...SCENARIOS],
    servers: servers.length
      ? (["tuchuan", "seed"] as const).filter((s) => servers.includes(s))
      : ["tuchuan", "seed"],
    json: values.json,
    frames: values.frames,
    tuchuanBin: values["tuchuan-bin"],
  };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes the JPEG frame sets (make_frames.sh skips the ones that exist). */
async function makeFrames(script: string, dir: string): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: [script, dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${script} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  for (const size of ["640x480", "1280x720", "1920x1080"]) {
    if (!exists(`${dir}/${size}/f0001.jpg`)) throw new Error(`${script} made no ${dir}/${size}`);
  }
}

/**
 * Runs `tuchuan --version` once, so the scenarios measure the server they would find on a machine
 * that has run it before. The first `deno run` of a checkout transpiles every module into Deno's
 * cache, and that run's peak RSS stays in its high-water mark (measured: `clients1` in a fresh
 * worktree reported 77.1 MB, 67.0 MB after a warm-up): whichever scenario came first would report
 * it. `--version` loads the same static module graph and exits. A compiled binary needs no warm-up.
 */
async function warmUp(command: readonly string[], log: (line: string) => void): Promise<void> {
  const [program, ...args] = command;
  try {
    const r = await runCommand(program, [...args, "--version"], {
      timeoutMs: 120_000,
      maxOutputBytes: 64 * 1024,
    });
    if (r.code === 0) return;
    const why = r.timedOut ? "timed out" : r.stderr.trim().split("\n").at(-1) || `exit ${r.code}`;
    log(`warm-up: tuchuan --version failed (${why}); measuring anyway`);
  } catch (err) {
    log(`warm-up: cannot run ${program} (${errorMessage(err)}); measuring anyway`);
  }
}

async function main(): Promise<number> {
  let opts: Options | "help";
  try {
    opts = parseOptions(Deno.args);
  } catch (err) {
    console.error(`bench: ${errorMessage(err)}\n\n${USAGE}`);
    return 2;
  }
  if (opts === "help") {
    console.log(USAGE);
    return 0;
  }
  const t0 = performance.now();
  const log = (m: string) =>
    console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${m}`);

  // Paths are resolved from the repository root, whatever the current directory.
  const repoRoot = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
  const peers = `${repoRoot}/../shared/peers`;
  const makeFramesScript = `${peers}/make_frames.sh`;
  const seedScript = `${peers}/seed_server.py`;
  if (!exists(makeFramesScript)) {
    console.error(
      `bench: ${makeFramesScript} not found (expected ../shared/peers/ next to the repo)`,
    );
    return 2;
  }
  if (opts.servers.includes("seed") && !exists(seedScript)) {
    console.error(`bench: ${seedScript} not found; run with --servers tuchuan to skip the seed`);
    return 2;
  }
  if (opts.servers.includes("tuchuan") && !opts.tuchuanBin && !exists(`${repoRoot}/main.ts`)) {
    console.error(`bench: ${repoRoot}/main.ts not found; use --servers seed or --tuchuan-bin`);
    return 2;
  }
  const python = exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const cfg: BenchConfig = {
    quick: opts.quick,
    repoRoot,
    framesRoot: opts.frames,
    seedScript,
    slowClientScript: `${repoRoot}/bench/slow_client.py`,
    python,
    tuchuanCommand: opts.tuchuanBin
      ? [opts.tuchuanBin]
      // The same V8 flags as `make run` and the compiled binary (see the Makefile).
      : [Deno.execPath(), "run", "-A", `--v8-flags=${V8_FLAGS}`, `${repoRoot}/main.ts`],
    servers: opts.servers,
    fps: 30,
    log,
  };

  // Whatever happens from here on, no server or client may outlive the benchmark.
  const onSignal = (name: string, code: number) => async () => {
    log(`${name}: stopping ${liveLabels().join(", ") || "nothing"}`);
    await killAll();
    await removeStandIns();
    Deno.exit(code);
  };
  const sigint = onSignal("SIGINT", 130);
  const sigterm = onSignal("SIGTERM", 143);
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);
  const deadlineS = DEADLINE_S[opts.quick ? "quick" : "full"];
  const deadline = setTimeout(async () => {
    log(`deadline of ${deadlineS} s passed: killing ${liveLabels().join(", ") || "nothing"}`);
    await killAll();
    await removeStandIns();
    Deno.exit(3);
  }, deadlineS * 1000);

  const results: ScenarioResult[] = [];
  let failed = false;
  try {
    log(`making frames in ${cfg.framesRoot}`);
    await makeFrames(makeFramesScript, cfg.framesRoot);
    if (cfg.servers.includes("tuchuan") && !opts.tuchuanBin) {
      log("warming Deno's module cache (tuchuan --version)");
      await warmUp(cfg.tuchuanCommand, log);
    }
    const machine = await machineInfo(python);
    const estimate = opts.scenarios.reduce((n, s) => n + s.estimateSeconds(opts.quick), 0);
    console.log(`# tuchuan benchmark${opts.quick ? " (--quick)" : ""}\n`);
    console.log(renderMachineInfo(machine));
    console.log(
      `\nservers: ${cfg.servers.join(" vs ")}; scenarios: ${
        opts.scenarios.map((s) => s.name).join(", ")
      }; about ${Math.round(estimate / 10) * 10} s\n`,
    );
    for (const scenario of opts.scenarios) {
      log(`scenario ${scenario.name}: ${scenario.title}`);
      let result: ScenarioResult;
      try {
        result = await scenario.run(cfg);
      } catch (err) {
        // A bug in one scenario must not lose the others' numbers.
        result = {
          name: scenario.name,
          title: scenario.title,
          columns: [...cfg.servers],
          compare: true,
          rows: [],
          notes: [],
          warnings: [`scenario crashed: ${errorMessage(err)}`],
          seconds: 0,
          raw: {},
        };
      }
      await killAll(); // Belt and braces: nothing carries over into the next scenario.
      if (result.warnings.some((w) => / failed: |crashed/.test(w))) failed = true;
      results.push(result);
      console.log(`${renderScenario(result)}\n`);
    }
    const total = (performance.now() - t0) / 1000;
    console.log(renderSummary(results, total));
    if (opts.json) {
      const doc = { machine, quick: opts.quick, servers: cfg.servers, seconds: total, results };
      await Deno.writeTextFile(opts.json, JSON.stringify(doc, jsonReplacer, 2) + "\n");
      log(`wrote ${opts.json}`);
    }
  } catch (err) {
    console.error(`bench: ${errorMessage(err)}`);
    failed = true;
  } finally {
    clearTimeout(deadline);
    await killAll();
    await removeStandIns();
    Deno.removeSignalListener("SIGINT", sigint);
    Deno.removeSignalListener("SIGTERM", sigterm);
  }
  return failed ? 1 : 0;
}

/** JSON has no NaN or Infinity: write them as null. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

if (import.meta.main) Deno.exit(await main());
