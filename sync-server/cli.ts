#!/usr/bin/env node
// The relay's command line: `npm run relay -- --help`.
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { parseArgument, resolveSettings, SETTINGS, SettingsError, type RelaySettings } from "./config";
import type { Relay } from "./Relay";
import { TokenNameError } from "./tokens";
import { addTokenCommands } from "./tokenCommands";

const dataOption = () => new Option("--data <dir>", "data directory (documents, tokens, peers.json)").env("RELAY_DATA_DIR");

const program = new Command("relay")
  // Options after `token ...` belong to the token command (both have --data).
  .enablePositionalOptions()
  .description(
    "Writer relay: keeps and forwards the Automerge changes of writers' machines.\n" +
      "Settings come from flags, then environment variables, then the configuration file (--config), then defaults.",
  )
  .addOption(new Option("--config <file>", "configuration file, .toml or .json, whose keys are the flags' names (env: RELAY_CONFIG)"));
// Flags from the settings table (config.ts), which also validates them. Their variables
// and the configuration file are read in run() rather than by commander, so that every
// source goes through the same checks and the same order.
for (const setting of SETTINGS) {
  const name = setting.kind === "bool" ? `--${setting.flag}` : `--${setting.flag} <${setting.arg ?? "value"}>`;
  const shownDefault = setting.defaultHelp ?? (setting.default !== undefined && setting.kind !== "bool" ? String(setting.default) : undefined);
  const option = new Option(name, `${setting.help} (${shownDefault !== undefined ? `default: ${shownDefault}, ` : ""}env: ${setting.env})`);
  const parse = (value: string): unknown => {
    try {
      return parseArgument(setting, value);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
  };
  if (setting.kind === "list") option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), ...(parse(value) as string[])]);
  else if (setting.kind !== "bool") option.argParser(parse);
  program.addOption(option);
}
program.action(async (options: Record<string, unknown>) => run(options));

addTokenCommands(program, dataOption, requireData, fail);

function requireData(data: string | undefined): string {
  if (!data) fail("the data directory is required: --data DIR or RELAY_DATA_DIR");
  return data;
}

function fail(message: string): never {
  console.error(`relay: ${message}`);
  process.exit(2);
}

async function run(flags: Record<string, unknown>): Promise<void> {
  let options: RelaySettings;
  try {
    options = resolveSettings({ flags, env: process.env, configFile: flags.config as string | undefined });
  } catch (error) {
    if (error instanceof SettingsError) fail(error.message);
    throw error;
  }
  const logger = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
  const dataDir = requireData(options.data);
  const { peers, allowAnonymous } = options;
  // Loaded here, not at the top: the token commands need none of it (Automerge, the
  // sync server, storage). Where the relay is built in chunks, as the tests bundle it
  // (test/support/programs.setup.ts), a token command loads none of it: 0.45 s of
  // processor time instead of 0.58 s. The published build is one file, and gains little.
  const [{ ClusterUnavailableError, DataDirectoryError, Relay }, { WorkersMissingError }, { DirectoryLockedError, StorageUnavailableError }] = await Promise.all([
    import("./Relay"),
    import("./RelayDocuments"),
    import("../src/node/storage"),
  ]);
  let relay: Relay;
  try {
    relay = await Relay.open({
      dataDir,
      storage: options.storage === "files" ? undefined : { kind: "postgres", url: options.storage },
      nats: options.nats,
      port: options.port,
      host: options.host,
      peers,
      peerToken: options.peerToken,
      peerBackoffMaxMs: options.peerBackoffMaxMs,
      allowAnonymous,
      trustProxy: options.trustProxy,
      metrics: { host: options.metricsHost, port: options.metricsPort, token: options.metricsToken },
      logger,
      syncDebounceMs: options.syncDebounceMs,
      saveDebounceMs: options.saveDebounceMs,
      idleEvictMs: options.idleEvictMs,
      maxDocumentsInMemory: options.maxDocumentsInMemory,
      maxConnections: options.maxConnections,
      maxPendingUpgrades: options.maxPendingUpgrades,
      requestTimeoutMs: options.requestTimeoutMs,
      workers: options.workers,
      workerThresholdBytes: options.workerThresholdBytes,
      limits: {
        maxFrameBytes: options.maxMessageBytes,
        joinTimeoutMs: options.joinTimeoutMs,
        messagesPerSecond: options.maxMessagesPerSecond,
        messageBurst: options.messageBurst,
        maxDocumentsPerConnection: options.maxDocumentsPerConnection,
        maxConnectionsPerToken: options.maxConnectionsPerToken,
        idleTimeoutMs: options.idleTimeoutMs,
        maxHeldBytesPerConnection: options.maxHeldBytesPerConnection,
        maxHeldBytes: options.maxHeldBytes,
      },
    });
  } catch (error) {
    if (error instanceof DataDirectoryError || error instanceof DirectoryLockedError || error instanceof StorageUnavailableError || error instanceof ClusterUnavailableError || error instanceof WorkersMissingError) {
      logger.fatal(error.message);
      process.exit(3);
    }
    throw error;
  }
  // automerge-repo starts promises it never awaits; one that fails (a storage read that
  // throws, a malformed document) must not take every other connection down with it.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  logger.info({ url: relay.url, dataDir: relay.dataDir, peerId: relay.repo.peerId, peers: peers.length, metricsUrl: relay.metricsUrl, trustProxy: options.trustProxy }, `listening on ${relay.url}`);
  if (relay.metricsUrl) logger.info({ metricsUrl: relay.metricsUrl }, `metrics on ${relay.metricsUrl}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  // The fault suite (F14) crashes a document worker from outside: never set in production.
  if (process.env.RELAY_FAULT_INJECTION === "1") {
    logger.warn("RELAY_FAULT_INJECTION=1: SIGUSR2 crashes document worker 0 (for the fault tests only)");
    process.on("SIGUSR2", () => relay.crashWorker(0));
  }
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof TokenNameError || error instanceof SettingsError) fail(error.message);
  console.error(error);
  process.exit(1);
});
