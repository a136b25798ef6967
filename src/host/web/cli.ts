/**
 * `npm run web`: the browser shell. Runs the same host as the desktop app and serves
 * the built renderer on 127.0.0.1, then prints the URL to open.
 */
import path from "node:path";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { Host } from "../Host";
import { startWebShell } from "./server";
import { DirectoryLockedError } from "../../node/storage";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(base, "writer");
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

const program = new Command()
  .name("npm run web --")
  .description("Run Writer in your browser: the same host as the desktop app, served on 127.0.0.1.")
  .option("--data <dir>", "where your documents live (env WRITER_DATA_DIR)", process.env.WRITER_DATA_DIR || defaultDataDir())
  .option("--port <n>", "port on 127.0.0.1, 0 for any free one (env WRITER_WEB_PORT)", parsePort, Number(process.env.WRITER_WEB_PORT || 0))
  .option("--renderer <dir>", "the built renderer", path.join(projectRoot, "out", "renderer"))
  .addHelpText("after", "\nThe token in the printed URL is the only way in; it changes on every start unless WRITER_WEB_TOKEN is set.\nLogs: WRITER_LOG_LEVEL=info (or debug) for more than warnings and errors.");

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ data: string; port: number; renderer: string }>();
  let host: Host;
  try {
    // The console is the writer's: only warnings and errors, as JSON lines on stderr,
    // unless WRITER_LOG_LEVEL asks for more.
    const logger = pino({ level: process.env.WRITER_LOG_LEVEL ?? "warn" }, pino.destination(2));
    host = await Host.open({ dataDir: opts.data, logger });
  } catch (error) {
    if (error instanceof DirectoryLockedError) {
      console.error((error as Error).message);
      process.exit(2);
    }
    throw error;
  }
  const shell = await startWebShell({ host, rendererDir: opts.renderer, port: opts.port, token: process.env.WRITER_WEB_TOKEN || undefined });
  console.log(`Writer is running. Open ${shell.url}`);
  console.log(`Documents are in ${host.dataDir}. Press Ctrl+C to quit (everything is saved).`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    host.logger.info({ signal }, "shutting down");
    await shell.close();
    await host.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  console.error(`Writer could not start: ${(error as Error).message}`);
  process.exit(1);
});
