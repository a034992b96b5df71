/**
 * tuchuan's entry point: reads the command line and environment, runs the server (or the
 * recorder, or the device list), prints the addresses to open, and stops everything in reverse
 * on SIGINT/SIGTERM. The only place that reads args and env, and the only one that exits.
 *
 * @module
 */
import { isInputError, messageOf } from "./src/core/errors.ts";
import { createLogger } from "./src/core/logger.ts";
import { redactUrls } from "./src/core/redact.ts";
import type { Config } from "./src/config/config.ts";
import { parseCommand } from "./src/config/parse_command.ts";
import { deviceReports, formatReports } from "./src/devices.ts";
import type { Camera } from "./src/pipeline/camera.ts";
import { record } from "./src/record.ts";
import { type RunningServer, startServer } from "./src/server.ts";

/** Local and network URLs to open, from `Deno.networkInterfaces()` (not `ifconfig`). */
function listenUrls(
  host: string,
  port: number,
  scheme: string,
): { local: string[]; network: string[] } {
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  const fmt = (h: string) => `${scheme}://${h.includes(":") ? `[${h}]` : h}:${port}/`;
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

/** What the banner says of one camera: its source, the mode it serves, and the encode path. */
function cameraLines(camera: Camera, config: Config): string[] {
  const offer = camera.planner.offer;
  const plan = camera.planner.current;
  const size = offer?.size;
  const what = offer
    ? `${offer.mode}${size ? "" : " (size from the first frame)"}`
    : "waiting for the source (it says what it offers when it is there)";
  return [
    `  Source:  ${camera.source.kind} ${redactUrls(camera.source.input)}`,
    `  Serves:  ${what}`,
    ...(offer?.notes ?? []).map((n) => `  Note:    ${n}`),
    `  Encoder: ${plan ? `${plan.path} (${plan.reason})` : "decided when the source opens"}${
      plan && plan.path !== "passthrough" ? `, quality ${config.quality}` : ""
    }`,
  ];
}

function banner(server: RunningServer, config: Config): string {
  const scheme = server.url.startsWith("https") ? "https" : "http";
  const urls = listenUrls(config.host, server.port, scheme);
  const base = urls.local[0] ?? urls.network[0];
  const several = server.cameras.length > 1;
  return [
    `tuchuan ${"\u2014"} live MJPEG on port ${server.port}${
      scheme === "https" ? " (HTTPS, HTTP/2)" : ""
    }`,
    ...urls.local.map((u) => `  Local:   ${u}`),
    ...urls.network.map((u) => `  Network: ${u}`),
    ...(urls.network.length === 0 && urls.local.length > 0
      ? ["  Network: use --host 0.0.0.0 to open it to your LAN"]
      : []),
    ...server.cameras.flatMap((camera) => [
      ...(several
        ? [`  Camera ${camera.name}: ${base}${camera.name}/stream`]
        : [`  Stream:  ${base}stream`]),
      ...cameraLines(camera, config),
    ]),
  ].join("\n");
}

async function serve(config: Config): Promise<number> {
  const log = createLogger(config.logLevel);
  let server: RunningServer;
  try {
    server = await startServer(config, { log });
  } catch (err) {
    console.error(`tuchuan: ${messageOf(err)}`);
    return isInputError(err) ? 2 : 1;
  }
  console.log(banner(server, config));
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

async function main(): Promise<number> {
  let command;
  try {
    command = parseCommand(Deno.args, Deno.env.toObject());
  } catch (err) {
    console.error(`tuchuan: ${messageOf(err)}`);
    return 2;
  }
  switch (command.kind) {
    case "help":
    case "version":
      console.log(command.text);
      return 0;
    case "devices": {
      const reports = await deviceReports();
      console.log(command.json ? JSON.stringify(reports, null, 2) : formatReports(reports));
      return 0;
    }
    case "record": {
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
        console.error(`tuchuan record: ${messageOf(err)}`);
        return isInputError(err) ? 2 : 1;
      } finally {
        Deno.removeSignalListener("SIGINT", onSignal);
      }
    }
    case "serve":
      return await serve(command.config);
  }
}

if (import.meta.main) Deno.exit(await main());
