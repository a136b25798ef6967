#!/usr/bin/env node
// The relay's command line: `npm run relay -- --help`.
import os from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import pino from "pino";
import { DirectoryLockedError } from "../src/node/storage";
import { limits } from "../src/node/protocol";
import { Relay } from "./Relay";
import { TokenNameError } from "./tokens";
import { addTokenCommands } from "./tokenCommands";

const integer = (min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const dataOption = () => new Option("--data <dir>", "data directory (documents, tokens, peers.json)").env("RELAY_DATA_DIR");

const program = new Command("relay")
  // Options after `token ...` belong to the token command (both have --data).
  .enablePositionalOptions()
  .description(
    "Writer relay: keeps and forwards the Automerge changes of writers' machines.\n" +
      "Every flag can also be set by the environment variable shown; a flag wins over its variable.",
  )
  .addOption(new Option("--port <n>", "port to listen on (0: any free port)").env("RELAY_PORT").argParser(integer(0)).default(8787))
  .addOption(new Option("--host <host>", "address to listen on; put a TLS proxy in front for anything but loopback").env("RELAY_HOST").default("127.0.0.1"))
  .addOption(dataOption())
  .addOption(new Option("--peer <url>", "another relay to replicate with, ws(s)://host:port/?token=T (repeatable; RELAY_PEERS: comma-separated)").argParser(collect))
  .addOption(new Option("--peer-token <token>", "token for peers whose URL has no ?token=").env("RELAY_PEER_TOKEN"))
  .addOption(new Option("--peer-backoff-max-ms <ms>", "longest pause between attempts to reach a peer relay").env("RELAY_PEER_BACKOFF_MAX_MS").argParser(integer(100)).default(30_000))
  // Not commander's .env(): it would take RELAY_ALLOW_ANONYMOUS=0 as "on" (see run()).
  .addOption(new Option("--allow-anonymous", "accept connections without a token (local development only!) (env: RELAY_ALLOW_ANONYMOUS=1)"))
  .addOption(new Option("--log-level <level>", "fatal, error, warn, info, debug or trace").env("RELAY_LOG_LEVEL").default("info"))
  .addOption(
    new Option("--sync-debounce-ms <ms>", "how long sync may gather changes for a peer before it sends them (keystrokes are forwarded at once anyway; automerge-repo's default is 100)")
      .env("RELAY_SYNC_DEBOUNCE_MS")
      .argParser(integer(0))
      .default(50),
  )
  .addOption(new Option("--save-debounce-ms <ms>", "how long a change may wait before it is written to disk").env("RELAY_SAVE_DEBOUNCE_MS").argParser(integer(0)).default(50))
  .addOption(new Option("--idle-evict-ms <ms>", "documents without traffic for this long leave memory (they stay on disk)").env("RELAY_IDLE_EVICT_MS").argParser(integer(100)).default(300_000))
  .addOption(
    new Option("--max-documents-in-memory <n>", "past this many documents in memory, the least recently used leave before they are idle (they stay on disk)")
      .env("RELAY_MAX_DOCUMENTS_IN_MEMORY")
      .argParser(integer(1))
      .default(200),
  )
  .addOption(new Option("--max-message-bytes <n>", "largest WebSocket frame accepted").env("RELAY_MAX_MESSAGE_BYTES").argParser(integer(1024)).default(limits.MAX_FRAME_BYTES))
  .addOption(new Option("--max-messages-per-second <n>", "sustained messages per second per connection").env("RELAY_MAX_MESSAGES_PER_SECOND").argParser(integer(1)).default(limits.MESSAGES_PER_SECOND))
  .addOption(new Option("--message-burst <n>", "messages a connection may send at once before the rate applies").env("RELAY_MESSAGE_BURST").argParser(integer(1)).default(limits.MESSAGE_BURST))
  .addOption(
    new Option("--max-documents-per-connection <n>", "distinct documents one connection may sync")
      .env("RELAY_MAX_DOCUMENTS_PER_CONNECTION")
      .argParser(integer(1))
      .default(limits.MAX_DOCUMENTS_PER_CONNECTION),
  )
  .addOption(new Option("--join-timeout-ms <ms>", "connections that send no valid join in this time are closed").env("RELAY_JOIN_TIMEOUT_MS").argParser(integer(100)).default(limits.JOIN_TIMEOUT_MS))
  .addOption(
    new Option("--workers <n>", "worker threads that load, sync and save long documents, so that nobody waits while one loads (0: all on one thread)")
      .env("RELAY_WORKERS")
      .argParser(integer(0))
      .default(Math.max(1, Math.min(4, os.availableParallelism() - 1)), "cores - 1, between 1 and 4"),
  )
  .addOption(
    new Option("--worker-threshold-bytes <n>", "a document of at least this many bytes on disk is loaded in a worker (16384: about 0.1 s of loading)")
      .env("RELAY_WORKER_THRESHOLD_BYTES")
      .argParser(integer(0))
      .default(16_384),
  )
  .addOption(new Option("--max-connections <n>", "live connections; beyond it upgrades get HTTP 503").env("RELAY_MAX_CONNECTIONS").argParser(integer(1)).default(limits.MAX_CONNECTIONS))
  .addOption(
    new Option("--max-connections-per-token <n>", "live connections one token may hold; beyond it its upgrades get HTTP 429")
      .env("RELAY_MAX_CONNECTIONS_PER_TOKEN")
      .argParser(integer(1))
      .default(limits.MAX_CONNECTIONS_PER_TOKEN),
  )
  .addOption(
    new Option("--idle-timeout-ms <ms>", "a connection that sends no message for this long is closed (relay peers excepted); desktops reconnect when they have something to say")
      .env("RELAY_IDLE_TIMEOUT_MS")
      .argParser(integer(100))
      .default(limits.IDLE_TIMEOUT_MS),
  )
  .addOption(
    new Option("--max-held-bytes-per-connection <n>", "bytes the relay may hold for one connection (frames not yet handled, requests waiting for a document, changes not yet on disk); beyond it the connection is slowed, then closed")
      .env("RELAY_MAX_HELD_BYTES_PER_CONNECTION")
      .argParser(integer(1024))
      .default(limits.MAX_HELD_BYTES_PER_CONNECTION),
  )
  .addOption(new Option("--max-held-bytes <n>", "bytes the relay may hold for all connections together").env("RELAY_MAX_HELD_BYTES").argParser(integer(1024)).default(limits.MAX_HELD_BYTES))
  .addOption(
    new Option("--max-pending-upgrades <n>", "connections that have not finished their HTTP request; beyond it the oldest is dropped")
      .env("RELAY_MAX_PENDING_UPGRADES")
      .argParser(integer(1))
      .default(limits.MAX_PENDING_UPGRADES),
  )
  .addOption(new Option("--request-timeout-ms <ms>", "time a connection has to send its whole HTTP request or upgrade").env("RELAY_REQUEST_TIMEOUT_MS").argParser(integer(100)).default(limits.REQUEST_TIMEOUT_MS))
  .action(async (options: RunOptions) => run(options));

interface RunOptions {
  port: number;
  host: string;
  data?: string;
  peer?: string[];
  peerToken?: string;
  peerBackoffMaxMs: number;
  allowAnonymous?: boolean;
  logLevel: string;
  syncDebounceMs: number;
  saveDebounceMs: number;
  idleEvictMs: number;
  maxDocumentsInMemory: number;
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  messageBurst: number;
  maxDocumentsPerConnection: number;
  joinTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerToken: number;
  idleTimeoutMs: number;
  maxHeldBytesPerConnection: number;
  maxHeldBytes: number;
  maxPendingUpgrades: number;
  requestTimeoutMs: number;
  workers: number;
  workerThresholdBytes: number;
}

addTokenCommands(program, dataOption, requireData, fail);

function requireData(data: string | undefined): string {
  if (!data) fail("the data directory is required: --data DIR or RELAY_DATA_DIR");
  return data;
}

function fail(message: string): never {
  console.error(`relay: ${message}`);
  process.exit(2);
}

async function run(options: RunOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, base: { pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
  const dataDir = requireData(options.data);
  const peers = options.peer ?? (process.env.RELAY_PEERS ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  for (const url of peers) {
    if (!/^wss?:\/\//.test(url)) fail(`--peer must be a ws:// or wss:// URL: ${url}`);
  }
  const anonymousEnv = (process.env.RELAY_ALLOW_ANONYMOUS ?? "").trim();
  if (!/^(|0|1|true|false|yes|no|on|off)$/i.test(anonymousEnv)) fail(`RELAY_ALLOW_ANONYMOUS must be 1/true/yes/on or 0/false/no/off, not ${JSON.stringify(anonymousEnv)}`);
  const allowAnonymous = options.allowAnonymous === true || /^(1|true|yes|on)$/i.test(anonymousEnv);
  let relay: Relay;
  try {
    relay = await Relay.open({
      dataDir,
      port: options.port,
      host: options.host,
      peers,
      peerToken: options.peerToken,
      peerBackoffMaxMs: options.peerBackoffMaxMs,
      allowAnonymous,
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
    if (error instanceof DirectoryLockedError) {
      logger.fatal(error.message);
      process.exit(3);
    }
    throw error;
  }
  // automerge-repo starts promises it never awaits; one that fails (a storage read that
  // throws, a malformed document) must not take every other connection down with it.
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));
  logger.info({ url: relay.url, dataDir: relay.dataDir, peerId: relay.repo.peerId, peers: peers.length }, `listening on ${relay.url}`);
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
  if (error instanceof TokenNameError) fail(error.message);
  console.error(error);
  process.exit(1);
});
