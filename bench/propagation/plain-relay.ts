/**
 * The baseline relay of bench/propagation: a plain automerge-repo sync server, as its
 * README shows one — a Repo with the websocket server adapter and the nodefs storage,
 * default settings — so that the bench compares our relay with what automerge-repo
 * gives out of the box.
 *
 *   tsx bench/propagation/plain-relay.ts --port N --data DIR [--host 127.0.0.1]
 *
 * With `--sync-debounce-ms N` (and, optionally, `--storage writer` for the crash-safe
 * storage of src/node/storage) it is instead the bench's stand-in for our relay, used
 * only while sync-server/cli.ts does not exist yet.
 *
 * Prints `listening on ws://HOST:PORT` once the Repo has its network adapter (the
 * relay contract's readiness line), then, on stderr, the throttle the first document
 * really got. Exits on SIGTERM/SIGINT (after flushing) and when stdin closes, so that
 * it never outlives the bench.
 */
import http from "node:http";
import { Command } from "commander";
import { WebSocketServer } from "ws";
import { Repo, type PeerId, type RepoConfig, type StorageAdapterInterface } from "@automerge/automerge-repo";
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { FileStorageAdapter } from "../../src/node/storage";

const program = new Command()
  .requiredOption("--port <n>", "port", Number)
  .requiredOption("--data <dir>", "storage directory")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--sync-debounce-ms <n>", "stand-in mode: pass syncDebounceRate to the Repo (stock: not passed at all)")
  .option("--storage <kind>", "nodefs (stock) or writer (stand-in: src/node/storage)", "nodefs");

async function main(): Promise<void> {
  program.parse();
  const opts = program.opts<{ port: number; data: string; host: string; syncDebounceMs?: string; storage: string }>();
  const storage: StorageAdapterInterface = opts.storage === "writer" ? await FileStorageAdapter.open(opts.data) : new NodeFSStorageAdapter(opts.data);

  const server = http.createServer((_req, res) => {
    res.writeHead(404, { "Cache-Control": "no-store" }).end();
  });
  const wss = new WebSocketServer({ server });
  const config: RepoConfig = {
    network: [new WebSocketServerAdapter(wss as unknown as ConstructorParameters<typeof WebSocketServerAdapter>[0])],
    storage,
    peerId: `plain-relay-${process.pid}` as PeerId,
  };
  // Stock means the option is not passed at all: the patched Repo then keeps 100 ms.
  if (opts.syncDebounceMs !== undefined) config.syncDebounceRate = Number(opts.syncDebounceMs);
  const repo = new Repo(config);

  // Reports the throttle the DocSynchronizer of the first document really uses.
  let reported = false;
  // (2.5.6 emits no "document" event; the first sync message received names one.)
  repo.on("doc-metrics", (event) => {
    if (reported || !("documentId" in event)) return;
    reported = true;
    setTimeout(() => {
      const synchronizers = (repo.synchronizer as unknown as { docSynchronizers: Record<string, { syncDebounceRate: number }> }).docSynchronizers;
      const effective = synchronizers[event.documentId]?.syncDebounceRate;
      console.error(`relay: DocSynchronizer.syncDebounceRate = ${effective ?? "unknown"} ms (Repo option ${opts.syncDebounceMs ?? "not passed"})`);
    }, 0);
  });

  await new Promise<void>((resolve) => server.listen(opts.port, opts.host, resolve));
  console.log(`listening on ws://${opts.host}:${opts.port}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    await repo.flush().catch(() => undefined);
    await repo.shutdown().catch(() => undefined);
    wss.close();
    server.close();
    if (storage instanceof FileStorageAdapter) await storage.close().catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  process.stdin.on("end", () => void stop());
  process.stdin.resume();
}

main().catch((error: unknown) => {
  console.error(`plain relay could not start: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
