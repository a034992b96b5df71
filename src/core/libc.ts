/**
 * The C library, through Deno FFI, for the few system calls Deno does not offer (socket queries
 * in `socket_table.ts`, `madvise` in `startup_pages.ts`).
 *
 * @module
 */

/** glibc first (Debian, Raspberry Pi OS), then musl (Alpine). */
export const LIBC_NAMES: readonly string[] = [
  "libc.so.6",
  "libc.musl-x86_64.so.1",
  "libc.musl-aarch64.so.1",
];

/**
 * Opens libc with the given symbols, or returns null where it cannot be opened: not Linux, no
 * FFI permission, or none of {@link LIBC_NAMES} there.
 */
export function openLibc<const S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] | null {
  if (Deno.build.os !== "linux") return null;
  for (const name of LIBC_NAMES) {
    try {
      return Deno.dlopen(name, symbols).symbols;
    } catch {
      // Not this name (or no permission: every name then fails the same way).
    }
  }
  return null;
}
