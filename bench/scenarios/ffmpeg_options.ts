/**
 * `ffmpegopts`: which ffmpeg options make the camera path cheaper, and what they cost in
 * latency. ffmpeg runs alone (no tuchuan) with exactly the arguments tuchuan builds for each
 * camera stand-in (imported from `src/source/ffmpeg_args.ts` via bench/camera_inputs.ts), then
 * with one change at a time; the bench reads the JPEGs from the pipe and discards them.
 *
 * Each variant runs in rounds (variant order alternating), and the median of the rounds is
 * reported: on a shared 2-core machine one 3 s run of the same command varies by ~5 %.
 *
 * @module
 */
import { type MadeStandIn, STAND_INS, standIn, tuchuanFfmpegArgv } from "../camera_inputs.ts";
import {
  type AloneResult,
  renameOption,
  runFfmpegAlone,
  withInputOptions,
  withOutputOptions,
} from "../ffmpeg_alone.ts";
import {
  type BenchConfig,
  type Cell,
  errorMessage,
  num,
  type Row,
  type Scenario,
  type ScenarioResult,
  skippedResult,
} from "../scenario.ts";
import { percentile } from "../stats.ts";

/** One change to tuchuan's ffmpeg command. */
interface Variant {
  readonly name: string;
  /** What it does, for the notes. */
  readonly what: string;
  /** Whether it means anything for ffmpeg copying JPEGs (no decoder, no encoder). */
  readonly forCopy: boolean;
  readonly apply: (argv: string[]) => string[];
}

const VARIANTS: readonly Variant[] = [
  { name: "default", what: "tuchuan's command as is", forCopy: true, apply: (a) => a },
  {
    name: "-threads 1",
    what: "one encoder thread (after -i; the default is one per core)",
    forCopy: false,
    apply: (a) => withOutputOptions(a, ["-threads", "1"]),
  },
  {
    name: "-fflags nobuffer",
    what: "no input buffering while probing (before -i)",
    forCopy: true,
    apply: (a) => withInputOptions(a, ["-fflags", "nobuffer"]),
  },
  {
    name: "-probesize 32",
    what: "-probesize 32 -analyzeduration 0 before -i (shortest probe)",
    forCopy: true,
    apply: (a) => withInputOptions(a, ["-probesize", "32", "-analyzeduration", "0"]),
  },
  {
    name: "-qscale",
    what: "-qscale N instead of -q:v N (an alias: the same output expected)",
    forCopy: false,
    apply: (a) => renameOption(a, "-q:v", "-qscale"),
  },
  {
    name: "-huffman default",
    what: "the standard Huffman tables instead of per-frame optimal ones",
    forCopy: false,
    apply: (a) => withOutputOptions(a, ["-huffman", "default"]),
  },
  {
    name: "combined",
    what: "-threads 1 before and after -i, -fflags nobuffer, -probesize 32 -analyzeduration 0",
    forCopy: true,
    apply: (a) =>
      withOutputOptions(
        withInputOptions(a, [
          ...["-threads", "1", "-fflags", "nobuffer", "-probesize", "32", "-analyzeduration", "0"],
        ]),
        a.includes("copy") ? [] : ["-threads", "1"],
      ),
  },
];

const ROUNDS = { full: 2, quick: 1 };
const WARMUP_MS = { full: 700, quick: 300 };
const DURATION_MS = { full: 3000, quick: 1000 };

/** Median of the rounds' values of one measure (NaN when none ran). */
function median(results: readonly AloneResult[], get: (r: AloneResult) => number): number {
  return percentile(results.map(get), 50);
}

/** What one input x variant produced over its rounds. */
interface Cellset {
  readonly results: AloneResult[];
  readonly errors: string[];
}

/** The `ffmpegopts` scenario. */
export const ffmpegOptionsScenario: Scenario = {
  name: "ffmpegopts",
  title: "ffmpeg alone with tuchuan's camera arguments, one option changed at a time",
  estimateSeconds: (quick) => {
    const runs = STAND_INS.reduce(
      (n, s) => n + VARIANTS.filter((v) => s.expectedPath !== "passthrough" || v.forCopy).length,
      0,
    );
    const mode = quick ? "quick" : "full";
    return runs * ROUNDS[mode] * (WARMUP_MS[mode] + DURATION_MS[mode] + 300) / 1000;
  },
  async run(cfg: BenchConfig): Promise<ScenarioResult> {
    const t0 = performance.now();
    const mode = cfg.quick ? "quick" : "full";
    if (!cfg.servers.includes("tuchuan")) {
      return skippedResult(this, "tuchuan is not among --servers");
    }
    const inputs: MadeStandIn[] = [];
    for (const s of STAND_INS) inputs.push(await standIn(s.name));
    const cells = new Map<string, Cellset>();
    const key = (input: string, variant: string) => `${input}|${variant}`;
    for (let round = 0; round < ROUNDS[mode]; round++) {
      for (const input of inputs) {
        const base = tuchuanFfmpegArgv(input);
        const copy = input.expectedPath === "passthrough";
        const variants = VARIANTS.filter((v) => !copy || v.forCopy);
        // Alternate the order between rounds so drift on the machine does not favour one end.
        const ordered = round % 2 === 0 ? variants : [...variants].reverse();
        for (const v of ordered) {
          const cell = cells.get(key(input.name, v.name)) ?? { results: [], errors: [] };
          cells.set(key(input.name, v.name), cell);
          try {
            cell.results.push(
              await runFfmpegAlone(v.apply(base), {
                warmupMs: WARMUP_MS[mode],
                durationMs: DURATION_MS[mode],
                fps: input.fps,
              }),
            );
          } catch (err) {
            cell.errors.push(errorMessage(err));
          }
        }
      }
      cfg.log(`  round ${round + 1}/${ROUNDS[mode]} done`);
    }

    const value = (input: string, variant: string, get: (r: AloneResult) => number): Cell => {
      const cell = cells.get(key(input, variant));
      if (!cell) return "n/a";
      if (cell.results.length === 0) return cell.errors.length ? "error" : "n/a";
      return num(median(cell.results, get));
    };
    const rows: Row[] = [];
    const measures: {
      metric: string;
      unit?: string;
      digits: number;
      better?: "lower";
      get: (r: AloneResult) => number;
      headline?: boolean;
    }[] = [
      {
        metric: "CPU per 1000 frames",
        unit: "s",
        digits: 3,
        better: "lower",
        headline: true,
        get: (r) => r.cpuPer1000Frames,
      },
      { metric: "first frame after spawn", unit: "ms", digits: 0, get: (r) => r.firstFrameMs },
      { metric: "pace lag p95", unit: "ms", digits: 1, get: (r) => r.paceLagMs.p95 },
      { metric: "fps", digits: 1, get: (r) => r.fps },
      { metric: "mean JPEG", unit: "KB", digits: 1, get: (r) => r.meanFrameBytes / 1000 },
      { metric: "peak PSS", unit: "MB", digits: 1, get: (r) => r.peakPssMb },
    ];
    for (const m of measures) {
      for (const input of inputs) {
        rows.push({
          metric: `${input.name}: ${m.metric}`,
          unit: m.unit,
          digits: m.digits,
          headline: m.headline && input.name !== "mjpeg640" ? true : undefined,
          values: VARIANTS.map((v) => value(input.name, v.name, m.get)),
        });
      }
    }
    // Savings against the default, the number the lead needs.
    for (const input of inputs) {
      const base = value(input.name, "default", (r) => r.cpuPer1000Frames);
      rows.push({
        metric: `${input.name}: CPU vs default`,
        unit: "%",
        digits: 1,
        values: VARIANTS.map((v) => {
          const x = value(input.name, v.name, (r) => r.cpuPer1000Frames);
          return typeof x === "number" && typeof base === "number"
            ? num((x / base - 1) * 100)
            : "n/a";
        }),
      });
    }
    const warnings: string[] = [];
    for (const [k, cell] of cells) {
      for (const e of new Set(cell.errors)) warnings.push(`${k.replace("|", " ")}: ${e}`);
    }
    return {
      name: "ffmpegopts",
      title: this.title,
      columns: VARIANTS.map((v) => v.name),
      compare: false,
      rows,
      notes: [
        ...inputs.map((i) => `${i.name} default: \`ffmpeg ${tuchuanFfmpegArgv(i).join(" ")}\``),
        ...VARIANTS.slice(1).map((v) => `${v.name}: ${v.what}.`),
        `median of ${ROUNDS[mode]} round(s); each run ${DURATION_MS[mode] / 1000} s after the ` +
        `first frame + ${WARMUP_MS[mode] / 1000} s; CPU = ffmpeg's thread run times.`,
        "first frame after spawn = the latency an option can change here: tuchuan's X-Timestamp " +
        "is stamped when tuchuan reads a frame from ffmpeg, so ffmpeg's own delay is not in the " +
        "served latency. pace lag = arrival - (first arrival + i/30 s): > 0 means behind.",
        "n/a: the option has no meaning for -c:v copy (no decoder or encoder runs).",
      ],
      warnings,
      seconds: (performance.now() - t0) / 1000,
      raw: Object.fromEntries(
        [...cells].map(([k, c]) => [k, { results: c.results, errors: c.errors }]),
      ),
    };
  },
};
