/**
 * Orientation as the user asks for it (`--rotate`, `--flip`), reduced to one normal form that
 * every path applies the same way: the served picture is the captured one mirrored left-right
 * (when `mirror`) and then turned clockwise by `turn` degrees.
 *
 * @module
 */

/** Clockwise rotation in degrees. */
export type Rotation = 0 | 90 | 180 | 270;

/** Mirroring: none, horizontal (left-right), vertical (top-bottom) or both. */
export type Flip = "none" | "h" | "v" | "hv";

/** Accepted `--rotate` values. */
export const ROTATIONS: readonly Rotation[] = [0, 90, 180, 270];
/** Accepted `--flip` values. */
export const FLIPS: readonly Flip[] = ["none", "h", "v", "hv"];

/** `--rotate` and `--flip` together. */
export interface Orientation {
  readonly rotate: Rotation;
  readonly flip: Flip;
}

/** The normal form: mirror left-right first (or not), then turn clockwise. */
export interface OrientationSteps {
  readonly mirror: boolean;
  readonly turn: Rotation;
}

/** No change. */
export const UPRIGHT: Orientation = Object.freeze({ rotate: 0, flip: "none" });

function addTurn(a: Rotation, b: Rotation): Rotation {
  return ((a + b) % 360) as Rotation;
}

/**
 * Flip first, then rotate, as one mirror and one turn: a vertical flip is a horizontal one
 * turned by 180 degrees, and flipping both ways is a turn by 180 degrees.
 */
export function orientationSteps(o: Orientation): OrientationSteps {
  switch (o.flip) {
    case "none":
      return { mirror: false, turn: o.rotate };
    case "h":
      return { mirror: true, turn: o.rotate };
    case "v":
      return { mirror: true, turn: addTurn(o.rotate, 180) };
    case "hv":
      return { mirror: false, turn: addTurn(o.rotate, 180) };
  }
}

/** True when the orientation changes nothing. */
export function isUpright(o: Orientation): boolean {
  return stepsAreUpright(orientationSteps(o));
}

/** True when the steps change nothing. */
export function stepsAreUpright(s: OrientationSteps): boolean {
  return !s.mirror && s.turn === 0;
}

/** True when the served picture is a quarter turn of the captured one (width and height swap). */
export function swapsSides(o: Orientation): boolean {
  const turn = orientationSteps(o).turn;
  return turn === 90 || turn === 270;
}

/**
 * The EXIF `Orientation` value (TIFF tag 0x0112) that tells a viewer to show a stored picture
 * the way `o` asks: 1 upright, 2 mirrored, 3 turned 180, 4 mirrored vertically, 5 mirrored and
 * turned 270, 6 turned 90, 7 mirrored and turned 90, 8 turned 270 (clockwise).
 */
export function exifOrientation(o: Orientation): number {
  return exifForSteps(orientationSteps(o));
}

/** {@link exifOrientation} of the normal form. */
export function exifForSteps({ mirror, turn }: OrientationSteps): number {
  const plain: Record<Rotation, number> = { 0: 1, 90: 6, 180: 3, 270: 8 };
  const mirrored: Record<Rotation, number> = { 0: 2, 90: 7, 180: 4, 270: 5 };
  return (mirror ? mirrored : plain)[turn];
}

/** A readable form for logs and `/state`, e.g. `rotate 90, flip h`. */
export function describeOrientation(o: Orientation): string {
  if (isUpright(o)) return "upright";
  const parts: string[] = [];
  if (o.rotate !== 0) parts.push(`rotate ${o.rotate}`);
  if (o.flip !== "none") parts.push(`flip ${o.flip}`);
  return parts.join(", ");
}

/** The normal form an EXIF `Orientation` value (1..8) stands for; upright for anything else. */
export function stepsForExif(value: number): OrientationSteps {
  const table: Record<number, OrientationSteps> = {
    1: { mirror: false, turn: 0 },
    2: { mirror: true, turn: 0 },
    3: { mirror: false, turn: 180 },
    4: { mirror: true, turn: 180 },
    5: { mirror: true, turn: 270 },
    6: { mirror: false, turn: 90 },
    7: { mirror: true, turn: 90 },
    8: { mirror: false, turn: 270 },
  };
  return table[value] ?? table[1];
}
