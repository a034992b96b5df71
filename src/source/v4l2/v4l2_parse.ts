/**
 * Reading what `v4l2-ctl` (Debian's v4l-utils) says about a camera: its formats with their sizes
 * and frame rates (`--list-formats-ext`), its controls (`--list-ctrls-menus`) and its identity
 * (`--info`). Pure text parsing, tested against a real device's output (fixtures/v4l2/).
 *
 * @module
 */

/** Sizes a format offers: a list, or a range with a step (CSI cameras). */
export type FrameSizes =
  | {
    readonly kind: "discrete";
    readonly width: number;
    readonly height: number;
    readonly fps: readonly number[];
  }
  | {
    readonly kind: "stepwise";
    readonly minWidth: number;
    readonly maxWidth: number;
    readonly stepWidth: number;
    readonly minHeight: number;
    readonly maxHeight: number;
    readonly stepHeight: number;
    /** Frame rates, when the driver lists any; empty for "whatever it can". */
    readonly fps: readonly number[];
  };

/** One pixel format a camera offers. */
export interface V4l2Format {
  /** Four-character code, e.g. `YUYV`, `MJPG` (trailing spaces trimmed). */
  readonly fourcc: string;
  readonly description: string;
  /** A compressed format (MJPEG, H.264). */
  readonly compressed: boolean;
  readonly sizes: readonly FrameSizes[];
}

/** The control types tuchuan can set. */
export type ControlType = "int" | "int64" | "bool" | "menu" | "intmenu" | "button" | "other";

/** One camera control. */
export interface V4l2Control {
  /** Its name as v4l2-ctl gives it (`brightness`, `white_balance_automatic`). */
  readonly name: string;
  /** The V4L2 control id (mjpg-streamer's `id=` uses it). */
  readonly id: number;
  readonly type: ControlType;
  /** The type as v4l2-ctl names it (`int`, `bool`, `menu`, `str`, `u8`, …). */
  readonly rawType: string;
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly default?: number;
  readonly value?: number;
  /** `read-only`, `inactive`, `write-only`, `volatile`, … */
  readonly flags: readonly string[];
  /** Menu entries (value and label) for menu and intmenu controls. */
  readonly menu?: readonly { readonly value: number; readonly label: string }[];
  /** The section v4l2-ctl lists it under (`User Controls`, `Camera Controls`). */
  readonly group: string;
}

/** Who the device is. */
export interface V4l2Info {
  readonly driver: string;
  readonly card: string;
  readonly bus: string;
  /** The node can capture video (metadata nodes of UVC cameras cannot). */
  readonly capture: boolean;
}

const FORMAT_LINE = /^\s*\[\d+\]:\s*'([^']*)'\s*\((.*)\)\s*$/;
const DISCRETE = /^\s*Size:\s*Discrete\s+(\d+)x(\d+)\s*$/;
const STEPWISE =
  /^\s*Size:\s*(?:Stepwise|Continuous)\s+(\d+)x(\d+)\s*-\s*(\d+)x(\d+)(?:\s+with step\s+(\d+)\/(\d+))?/;
const INTERVAL = /^\s*Interval:\s*(?:Discrete|Stepwise|Continuous)\s+[\d.]+s\s*\(([\d.]+)\s*fps\)/;
/**
 * A range of intervals: v4l2-ctl prints "Continuous 0.033s - 1.000s (1.000-30.000 fps)", or
 * "Stepwise … with step 0.033s (…)"; the slowest rate comes first.
 */
const INTERVAL_RANGE =
  /^\s*Interval:\s*(?:Stepwise|Continuous)\s+[\d.]+s\s*-\s*[\d.]+s.*\(([\d.]+)-([\d.]+)\s*fps\)/;
/** The usual rates, offered from a range of intervals (which has every rate in between). */
const COMMON_RATES = [120, 90, 60, 50, 30, 25, 24, 20, 15, 12.5, 10, 7.5, 5, 2, 1];

/** Parses `v4l2-ctl --list-formats-ext` (video capture formats). */
export function parseFormats(text: string): V4l2Format[] {
  const formats: {
    fourcc: string;
    description: string;
    compressed: boolean;
    sizes: FrameSizes[];
  }[] = [];
  let sizes: FrameSizes[] | null = null;
  let fps: number[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    let m = FORMAT_LINE.exec(line);
    if (m) {
      sizes = [];
      fps = null;
      const description = m[2].split(",")[0].trim();
      formats.push({
        fourcc: m[1].trim(),
        description,
        compressed: /compressed/i.test(m[2]),
        sizes,
      });
      continue;
    }
    if (!sizes) continue;
    if ((m = DISCRETE.exec(line))) {
      fps = [];
      sizes.push({ kind: "discrete", width: Number(m[1]), height: Number(m[2]), fps });
      continue;
    }
    if ((m = STEPWISE.exec(line))) {
      fps = [];
      sizes.push({
        kind: "stepwise",
        minWidth: Number(m[1]),
        minHeight: Number(m[2]),
        maxWidth: Number(m[3]),
        maxHeight: Number(m[4]),
        stepWidth: Number(m[5] ?? 1),
        stepHeight: Number(m[6] ?? 1),
        fps,
      });
      continue;
    }
    if ((m = INTERVAL_RANGE.exec(line)) && fps) {
      const [low, high] = [Number(m[1]), Number(m[2])].sort((a, b) => a - b);
      for (const rate of [high, ...COMMON_RATES.filter((r) => r > low && r < high), low]) {
        if (rate > 0 && !fps.includes(rate)) fps.push(rate);
      }
      continue;
    }
    if ((m = INTERVAL.exec(line)) && fps) {
      const rate = Number(m[1]);
      if (rate > 0 && !fps.includes(rate)) fps.push(rate);
    }
  }
  for (const f of formats) {
    for (const s of f.sizes) (s.fps as number[]).sort((a, b) => b - a);
  }
  return formats;
}

const CONTROL_LINE = /^\s*(\S+)\s+0x([0-9a-f]+)\s+\(([^)]+)\)\s*:\s*(.*)$/i;
const MENU_LINE = /^\s*(-?\d+):\s*(.*)$/;
const TYPES: Record<string, ControlType> = {
  int: "int",
  int64: "int64",
  bool: "bool",
  menu: "menu",
  intmenu: "intmenu",
  button: "button",
};

/** Parses `v4l2-ctl --list-ctrls-menus`. */
export function parseControls(text: string): V4l2Control[] {
  const controls: (V4l2Control & { menu?: { value: number; label: string }[] })[] = [];
  let group = "";
  let current: { menu?: { value: number; label: string }[] } | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = CONTROL_LINE.exec(line);
    if (m) {
      const rawType = m[3].trim();
      const fields = parseFields(m[4]);
      const num = (k: string) => {
        const v = fields.get(k);
        if (v === undefined) return undefined;
        const n = Number(v.startsWith("0x") ? parseInt(v, 16) : v);
        return Number.isFinite(n) ? n : undefined;
      };
      const control = {
        name: m[1],
        id: parseInt(m[2], 16),
        type: TYPES[rawType] ?? "other",
        rawType,
        min: num("min"),
        max: num("max"),
        step: num("step"),
        default: num("default"),
        value: num("value"),
        flags: (fields.get("flags") ?? "").split(",").map((f) => f.trim()).filter(Boolean),
        group,
        ...(rawType === "menu" || rawType === "intmenu" ? { menu: [] } : {}),
      };
      controls.push(control);
      current = control;
      continue;
    }
    const menu = MENU_LINE.exec(line);
    if (menu && current?.menu && /^\t|^\s{4,}/.test(line)) {
      current.menu.push({ value: Number(menu[1]), label: menu[2].trim() });
      continue;
    }
    // A section heading such as "User Controls" or "Camera Controls".
    if (!/[:=]/.test(line)) {
      group = line.trim();
      current = null;
    }
  }
  return controls;
}

/** `key=value` pairs of a control line; `flags=` takes the rest of the line. */
function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  const flags = text.indexOf("flags=");
  const head = flags === -1 ? text : text.slice(0, flags);
  if (flags !== -1) fields.set("flags", text.slice(flags + 6).trim());
  for (const m of head.matchAll(/(\w+)=('[^']*'|\S+)/g)) fields.set(m[1], m[2]);
  return fields;
}

/** Parses `v4l2-ctl --info`. */
export function parseInfo(text: string): V4l2Info {
  const field = (name: string) =>
    new RegExp(`^\\s*${name}\\s*:\\s*(.*)$`, "m").exec(text)?.[1].trim() ?? "";
  // "Device Caps" lists what this node does; on old drivers only "Capabilities" exists.
  const caps = /Device Caps[^\n]*\n((?:\t\t[^\n]*\n)*)/.exec(text)?.[1] ??
    /Capabilities[^\n]*\n((?:\t\t[^\n]*\n)*)/.exec(text)?.[1] ?? "";
  return {
    driver: field("Driver name"),
    card: field("Card type"),
    bus: field("Bus info"),
    capture: /Video Capture/.test(caps),
  };
}
