/**
 * tuchuan's entry point: reads the command line and environment, wires the server (or the
 * recorder), prints the addresses to open, and stops everything in reverse on SIGINT/SIGTERM.
 *
 * @module
 */
import { parseCommand } from "./src/config.ts";
import { createLogger } from "./src/logger.ts";
import { record } from "./src/record.ts";
import { startServer } from "./src/server.ts";
import { redactUrls } from "./src/source/source.ts";

/** Local and network URLs to open, from `Deno.networkInterfaces()` (not `ifconfig`). */
function listenUrls(host: string, port: number): { local: string[]; network: string[] } {
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  const fmt = (h: string) => `http://${h.includes(":") ? `[${h}]` : h}:${port}/`;
  if (!wildcard) {
    const loop = host === "127.0.0.1" || host === "localhost" || host === "::1";
    return loop ? { local: [fmt(host)], network: [] } : { local: [], network: [fmt(host)] };
  }
  const network: string[] = [];
  try {
    for (const nic of Deno.networkInterfaces()) {
      if (nic.address.startsWith("127.") || nic.address === "::1") continue;
      if (nic.family === "IPv6" && (host !== "::" || nic.address.startsWith("fe80"))) continue;
      network.push(fmt(nic.address));
    }
  } catch {
    // No permission or no interfaces: the Local line still helps.
  }
  return { local: [fmt("127.0.0.1")], network };
}

async function main(): Promise<number> {
  let command;
  try {
    command = parseCommand(Deno.args, Deno.env.toObject());
  } catch (err) {
    console.error(`tuchuan: ${(err as Error).message}`);
    return 2;
  }
  if (command.kind === "help" || command.kind === "version") {
    console.log(command.text);
    return 0;
  }
  if (command.kind === "record") {
    const opts = command.options;
    const ac = new AbortController();
    const onSignal = () => ac.abort();
    Deno.addSignalListener("SIGINT", onSignal);
    try {
      const result = await record(opts, {
        signal: ac.signal,
        progress: (line) => Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}   `)),
      });
      console.error(
        `\nWrote ${opts.out}: ${result.frames} frames, ${result.bytes} bytes, ${
          result.seconds.toFixed(1)
        } s${result.corrupt ? `, ${result.corrupt} damaged frames skipped` : ""}`,
      );
      return result.frames > 0 ? 0 : 1;
    } catch (err) {
      console.error(`tuchuan record: ${(err as Error).message}`);
      return err instanceof TypeError || err instanceof RangeError ? 2 : 1;
    } finally {
      Deno.removeSignalListener("SIGINT", onSignal);
    }
  }

  const config = command.config;
  const log = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, { log });
  } catch (err) {
    const e = err as Error;
    console.error(`tuchuan: ${e.message}`);
    return e instanceof TypeError || e instanceof RangeError || e.name === "OfflineImageError"
      ? 2
      : 1;
  }
  const urls = listenUrls(config.host, server.port);
  const lines = [
    `tuchuan ${"\u2014"} live MJPEG on port ${server.port}`,
    ...urls.local.map((u) => `  Local:   ${u}`),
    ...urls.network.map((u) => `  Network: ${u}`),
    ...(urls.network.length === 0 && urls.local.length > 0
      ? ["  Network: use --host 0.0.0.0 to open it to your LAN"]
      : []),
    `  Stream:  ${urls.local[0] ?? urls.network[0]}stream`,
    `  Source:  ${server.source.kind} ${redactUrls(server.source.input)}`,
    `  Size:    ${config.width}x${config.height} @ ${config.fps} fps, quality ${config.quality}`,
    `  Encoder: ${server.encoder.kind} (${server.encoder.reason})`,
  ];
  console.log(lines.join("\n"));

  const stopped = Promise.withResolvers<string>();
  const onInt = () => stopped.resolve("SIGINT");
  const onTerm = () => stopped.resolve("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  const why = await Promise.race([stopped.promise, server.finished.then(() => "closed")]);
  log.info(`Stopping (${why})`);
  // A hard deadline: whatever hangs, the process exits within 2 s of the signal.
  const deadline = setTimeout(() => {
    log.warn("Shutdown took too long; exiting");
    Deno.exit(0);
  }, 1800);
  await server.stop();
  clearTimeout(deadline);
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
