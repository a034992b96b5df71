/**
 * One line per event, filtered by `--log-level`; never one per frame.
 *
 * @module
 */

/** How much tuchuan logs, from most to least verbose. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Accepted `--log-level` values, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(["debug", "info", "warn", "error"]);

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A levelled logger. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger writing `ISO-time level message` lines to stderr at or above `level`. */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = console.error,
): Logger {
  const min = ORDER[level];
  const at = (lvl: LogLevel) => (message: string) => {
    if (ORDER[lvl] >= min) write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${message}`);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** The same logger with `prefix` before every message (one camera among several). */
export function prefixLogger(log: Logger, prefix: string): Logger {
  if (prefix === "") return log;
  return {
    debug: (m) => log.debug(`${prefix}${m}`),
    info: (m) => log.info(`${prefix}${m}`),
    warn: (m) => log.warn(`${prefix}${m}`),
    error: (m) => log.error(`${prefix}${m}`),
  };
}

/** A logger that drops everything (library use, tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
