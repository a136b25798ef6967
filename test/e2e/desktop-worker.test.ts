// The desktop build's document worker (out/main/documentWorker.js, built by
// electron.vite.config.ts beside the Electron main process, which starts it): the same
// file, started by a host in plain Node, loads and saves a long document. The Electron
// binary is not available here; this is the part of the desktop app's worker that is.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { next as A } from "@automerge/automerge";
import { Repo, type AutomergeUrl, type PeerId } from "@automerge/automerge-repo";
import { MessageChannelNetworkAdapter } from "@automerge/automerge-repo-network-messagechannel";
import pino from "pino";
import { afterEach, expect, it } from "vitest";
import { Host } from "../../src/host/Host";
import { plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { eventually } from "../support/wait";
import { readyWhenPeered } from "../../src/shared/sync/readyWhenPeered";

type Port = ConstructorParameters<typeof MessageChannelNetworkAdapter>[0];
const built = path.join(import.meta.dirname, "../../out/main/documentWorker.js");
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

it("the built document worker holds a document for the host", async () => {
  expect(fs.existsSync(built), "npm run build makes out/main/documentWorker.js").toBe(true);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "writer-built-worker-"));
  cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const open = async () => {
    const host = await Host.open({ dataDir, logger: pino({ level: "silent" }), documentWorkers: { worker: pathToFileURL(built), thresholdBytes: 0 } });
    cleanups.push(() => host.close());
    return host;
  };
  let host = await open();
  const created = await host.handle({ method: "createDocument", title: "Built" });
  if (!created.ok) throw new Error(created.error.message);
  const { url } = created.value as { url: string };
  await host.close();

  // Reopened: on disk, so routed by its size (threshold 0) to the worker.
  host = await open();
  const { port1, port2 } = new MessageChannel();
  host.connect(new MessageChannelNetworkAdapter(port1 as unknown as Port));
  const window = new Repo({ network: [readyWhenPeered(new MessageChannelNetworkAdapter(port2 as unknown as Port))], peerId: "built-window" as PeerId });
  cleanups.push(() => window.shutdown());
  const handle = await window.find<WriterDocument>(url as AutomergeUrl);
  expect(handle.doc().title).toBe("Built");
  handle.change((d) => A.splice(d, TEXT_PATH, 1, 0, "Typed in a window, saved by the built worker."));
  const heads = A.getHeads(handle.doc());
  await eventually(async () => {
    const saved = await host.handle({ method: "confirmSaved", url, heads });
    return saved.ok && (saved.value as { saved: boolean }).saved;
  }, 10_000, 20);
  expect(host.repo.handles[url.slice("automerge:".length) as never]).toBeUndefined();
  await host.close();

  host = await Host.open({ dataDir, logger: pino({ level: "silent" }), documentWorkers: { count: 0 } });
  cleanups.push(() => host.close());
  expect(plainText((await host.repo.find<WriterDocument>(url as AutomergeUrl)).doc())).toBe("Typed in a window, saved by the built worker.");
});
