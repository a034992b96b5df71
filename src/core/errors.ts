/**
 * Errors that mean "the user asked for something that cannot work", found only when tuchuan
 * tries it (a file that is not an image, a port in use, a certificate that has expired). The
 * command line exits with code 2 for these, as for a malformed flag.
 *
 * @module
 */

/** A flag's value is well formed but unusable; the message names the flag and the value. */
export class InputError extends Error {
  /** The flag (`--port`) or variable the value came from, when known. */
  readonly flag?: string;

  /** @param message names the value and why it fails; @param options `cause` and `flag` */
  constructor(message: string, options?: ErrorOptions & { flag?: string }) {
    super(message, options);
    this.name = "InputError";
    this.flag = options?.flag;
  }
}

/** True for errors the command line reports with exit code 2 (bad input), not 1. */
export function isInputError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof InputError;
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
