/**
 * Camera controls as users set them: `--control NAME=VALUE`, `POST /controls`, and
 * mjpg-streamer's `?action=command&id=…&value=…`. Values are checked against what the camera
 * says of each control (type, range, step, menu) before anything is written, so a request with
 * one bad value changes nothing; automatic modes are written before the values they govern
 * (`white_balance_automatic` before `white_balance_temperature`), as the camera may refuse a
 * manual value while its automatic mode is on.
 *
 * @module
 */
import { FALSE_WORDS, TRUE_WORDS } from "../../core/values.ts";
import type { V4l2Control } from "./v4l2_parse.ts";

/** A value to write to a control. */
export interface ControlValue {
  readonly name: string;
  readonly value: number;
}

/** A control value that cannot be written; `control` names it (for the 400 body or exit 2). */
export class ControlError extends Error {
  /** @param control the control's name; @param message why */
  constructor(readonly control: string, message: string) {
    super(message);
    this.name = "ControlError";
  }
}

/** What `GET /controls` says of one control. */
export interface ControlDescription {
  name: string;
  id: number;
  type: string;
  min?: number;
  max?: number;
  step?: number;
  default?: number;
  value?: number;
  readOnly: boolean;
  inactive: boolean;
  menu?: { value: number; label: string }[];
  group: string;
}

const SETTABLE = new Set(["int", "int64", "bool", "menu", "intmenu", "button"]);

/** The controls users can see and set (payload types such as arrays and strings are left out). */
export function listedControls(controls: readonly V4l2Control[]): ControlDescription[] {
  return controls.filter((c) => SETTABLE.has(c.type)).map((c) => ({
    name: c.name,
    id: c.id,
    type: c.type,
    ...(c.min !== undefined ? { min: c.min } : {}),
    ...(c.max !== undefined ? { max: c.max } : {}),
    ...(c.step !== undefined ? { step: c.step } : {}),
    ...(c.default !== undefined ? { default: c.default } : {}),
    ...(c.value !== undefined && !c.flags.includes("write-only") ? { value: c.value } : {}),
    readOnly: c.flags.includes("read-only"),
    inactive: c.flags.includes("inactive"),
    ...(c.menu ? { menu: [...c.menu] } : {}),
    group: c.group,
  }));
}

/** True for the switch of an automatic mode, which must go before the values it governs. */
export function isAutoMode(name: string): boolean {
  return /(^|_)auto(matic)?($|_)/.test(name) || name.endsWith("_auto");
}

/** `values` in the order to write them: automatic modes first, the rest as given. */
export function writeOrder(values: readonly ControlValue[]): ControlValue[] {
  return [
    ...values.filter((v) => isAutoMode(v.name)),
    ...values.filter((v) => !isAutoMode(v.name)),
  ];
}

/**
 * Checks one value for `control`. `raw` is text (a flag, a form field) or a JSON value. Returns
 * the number to write; throws {@link ControlError} naming the control.
 */
export function checkControlValue(control: V4l2Control, raw: unknown): number {
  const name = control.name;
  const shown = JSON.stringify(raw)?.slice(0, 40) ?? String(raw);
  if (!SETTABLE.has(control.type)) {
    throw new ControlError(
      name,
      `Control ${name} is of type ${control.rawType}, which tuchuan cannot set`,
    );
  }
  if (control.flags.includes("read-only")) {
    throw new ControlError(name, `Control ${name} is read-only`);
  }
  if (control.type === "bool") {
    if (typeof raw === "boolean") return raw ? 1 : 0;
    const word = String(raw).toLowerCase();
    if (typeof raw === "number" && (raw === 0 || raw === 1)) return raw;
    if (typeof raw === "string" && TRUE_WORDS.includes(word)) return 1;
    if (typeof raw === "string" && FALSE_WORDS.includes(word)) return 0;
    throw new ControlError(name, `Invalid value ${shown} for ${name}: expected true or false`);
  }
  if (control.type === "menu" || control.type === "intmenu") {
    const items = control.menu ?? [];
    const label = typeof raw === "string"
      ? items.find((i) => i.label.toLowerCase() === raw.toLowerCase())
      : undefined;
    if (label) return label.value;
    const n = toInteger(raw);
    if (n !== null && items.some((i) => i.value === n)) return n;
    throw new ControlError(
      name,
      `Invalid value ${shown} for ${name}: expected one of ${
        items.map((i) => `${i.value} (${i.label})`).join(", ")
      }`,
    );
  }
  if (control.type === "button") {
    const n = toInteger(raw);
    if (n === 1 || raw === true) return 1;
    throw new ControlError(name, `Invalid value ${shown} for ${name}: a button takes 1 (press)`);
  }
  const n = toInteger(raw);
  if (n === null) {
    throw new ControlError(name, `Invalid value ${shown} for ${name}: expected an integer`);
  }
  const { min, max, step } = control;
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    throw new ControlError(name, `Invalid value ${shown} for ${name}: expected ${min} to ${max}`);
  }
  if (step && step > 1 && (n - (min ?? 0)) % step !== 0) {
    throw new ControlError(
      name,
      `Invalid value ${shown} for ${name}: expected a multiple of ${step} from ${min ?? 0}`,
    );
  }
  return n;
}

function toInteger(raw: unknown): number | null {
  if (typeof raw === "number") return Number.isSafeInteger(raw) ? raw : null;
  if (typeof raw !== "string" || !/^[+-]?\d+$/.test(raw.trim())) return null;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Checks every requested value against `controls`; throws {@link ControlError} for the first
 * unknown control or bad value, so that nothing is written unless all are good.
 */
export function checkControls(
  controls: readonly V4l2Control[],
  requested: readonly { name: string; value: unknown }[],
): ControlValue[] {
  const byName = new Map(controls.map((c) => [c.name, c]));
  return requested.map(({ name, value }) => {
    const control = byName.get(name);
    if (!control) {
      const known = controls.filter((c) => SETTABLE.has(c.type)).map((c) => c.name);
      throw new ControlError(
        name,
        `Unknown control ${JSON.stringify(name.slice(0, 40))}: the camera has ${known.join(", ")}`,
      );
    }
    return { name, value: checkControlValue(control, value) };
  });
}

/** A camera's controls as the HTTP API and mjpg-streamer's command URL use them. */
export interface CameraControls {
  /** Every settable control with its type, range, default and current value. */
  list(): Promise<ControlDescription[]>;
  /**
   * Checks every value first (throwing {@link ControlError}, nothing written, when any is bad),
   * then writes them, automatic modes first, and reads them back. The values are applied again
   * whenever the camera is opened again (restart, replug).
   */
  set(values: readonly { name: string; value: unknown }[]): Promise<ControlWriteResult[]>;
  /** The name of the control with V4L2 id `id` (mjpg-streamer's `id=`), or null. */
  nameOf(id: number): Promise<string | null>;
}

/** What became of one written value. */
export interface ControlWriteResult {
  readonly name: string;
  readonly asked: number;
  /** The value read back, or null when it could not be read. */
  readonly value: number | null;
  /** The camera's own reason for refusing it, or null. */
  readonly error: string | null;
}
