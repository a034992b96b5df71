/**
 * `tuchuan devices`: the cameras on this machine, for a person to read (or as JSON): each with
 * its stable `/dev/v4l/by-id/…` names, formats, sizes and frame rates, controls, and the mode
 * tuchuan would choose for it.
 *
 * @module
 */
import { negotiate } from "./source/v4l2/negotiate.ts";
import { type ControlDescription, listedControls } from "./source/v4l2/camera_controls.ts";
import { queryDevice } from "./source/v4l2/v4l2_ctl.ts";
import type { FrameSizes, V4l2Format } from "./source/v4l2/v4l2_parse.ts";

/** One camera as `tuchuan devices` reports it. */
export interface DeviceReport {
  device: string;
  /** `/dev/v4l/by-id/…` and `/dev/v4l/by-path/…` names pointing to it. */
  names: string[];
  card?: string;
  driver?: string;
  bus?: string;
  /** False for nodes that cannot capture (a UVC camera's metadata node). */
  capture: boolean;
  formats: V4l2Format[];
  controls: ControlDescription[];
  /** The mode tuchuan would open it in, in words. */
  choice?: string;
  /** Why it could not be asked, if it could not. */
  error?: string;
}

function list(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => `${dir}/${e.name}`).sort();
  } catch {
    return [];
  }
}

/** The video device nodes and their stable names. */
export function videoDevices(): { device: string; names: string[] }[] {
  const nodes = list("/dev").filter((p) => /^\/dev\/video\d+$/.test(p)).sort((a, b) =>
    Number(a.slice(10)) - Number(b.slice(10))
  );
  const links = [...list("/dev/v4l/by-id"), ...list("/dev/v4l/by-path")];
  return nodes.map((device) => ({
    device,
    names: links.filter((l) => {
      try {
        return Deno.realPathSync(l) === device;
      } catch {
        return false;
      }
    }),
  }));
}

/** Asks every camera what it offers. */
export async function deviceReports(): Promise<DeviceReport[]> {
  const out: DeviceReport[] = [];
  for (const { device, names } of videoDevices()) {
    try {
      const caps = await queryDevice(device);
      const n = caps.info.capture ? negotiate(caps.formats, { size: null, fps: null }) : null;
      out.push({
        device,
        names,
        card: caps.info.card,
        driver: caps.info.driver,
        bus: caps.info.bus,
        capture: caps.info.capture,
        formats: [...caps.formats],
        controls: listedControls(caps.controls),
        ...(n
          ? {
            choice:
              `${n.mode.fourcc} ${n.mode.size.width}x${n.mode.size.height} at ${n.mode.fps} fps (${n.why})`,
          }
          : {}),
      });
    } catch (err) {
      out.push({
        device,
        names,
        capture: false,
        formats: [],
        controls: [],
        error: (err as Error).message,
      });
    }
  }
  return out;
}

function sizeText(s: FrameSizes): string {
  const rates = s.fps.length ? `${s.fps.map((f) => +f.toFixed(3)).join(", ")} fps` : "any rate";
  if (s.kind === "discrete") return `${s.width}x${s.height}: ${rates}`;
  return `${s.minWidth}x${s.minHeight} to ${s.maxWidth}x${s.maxHeight} in steps of ${s.stepWidth}/${s.stepHeight}: ${rates}`;
}

function controlText(c: ControlDescription): string {
  const range = c.type === "bool"
    ? "bool"
    : c.type === "button"
    ? "button"
    : c.menu
    ? `menu ${c.menu.map((m) => `${m.value}=${m.label}`).join(", ")}`
    : `${c.type} ${c.min}..${c.max}${c.step && c.step !== 1 ? ` step ${c.step}` : ""}`;
  const now = c.value !== undefined ? `, now ${c.value}` : "";
  const def = c.default !== undefined ? `, default ${c.default}` : "";
  const flags = [c.readOnly ? "read-only" : "", c.inactive ? "inactive" : ""].filter(Boolean);
  return `${c.name}: ${range}${def}${now}${flags.length ? ` (${flags.join(", ")})` : ""}`;
}

/** The reports as text. */
export function formatReports(reports: readonly DeviceReport[]): string {
  if (reports.length === 0) return "No camera found (no /dev/video* device).\n";
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(`${r.device}${r.card ? `  ${r.card}` : ""}${r.bus ? ` (${r.bus})` : ""}`);
    for (const n of r.names) lines.push(`  also: ${n}`);
    if (r.error) {
      lines.push(`  cannot ask it: ${r.error}`, "");
      continue;
    }
    if (!r.capture) {
      lines.push("  not a video capture node (metadata or output)", "");
      continue;
    }
    if (r.choice) lines.push(`  tuchuan opens it as ${r.choice}`);
    lines.push("  Formats:");
    // Formats with the same sizes and rates are listed together (vivid has 83 of them).
    const groups = new Map<string, V4l2Format[]>();
    for (const f of r.formats) {
      const key = f.sizes.map(sizeText).join("|");
      groups.set(key, [...(groups.get(key) ?? []), f]);
    }
    for (const formats of groups.values()) {
      lines.push(`    ${formats.map((f) => `${f.fourcc} (${f.description})`).join(", ")}`);
      for (const s of formats[0].sizes) lines.push(`      ${sizeText(s)}`);
    }
    lines.push("  Controls (--control NAME=VALUE, POST /controls):");
    for (const c of r.controls) lines.push(`    ${controlText(c)}`);
    lines.push("");
  }
  return lines.join("\n");
}
