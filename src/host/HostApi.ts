import { parseAutomergeUrl, isValidAutomergeUrl, type AutomergeUrl } from "@automerge/automerge-repo";
import type { Logger } from "pino";
import {
  BACKUP_MAX_BYTES,
  requestSchema,
  type Bootstrap,
  type HostError,
  type HostMethod,
  type HostRequest,
  type HostResponse,
  type HostResults,
  type HostStatus,
  type IntegrityMode,
} from "../shared/api";
import type { RetryingStorage } from "../node/storage";
import type { HostDocuments } from "./HostDocuments";
import { DocumentNotFoundError } from "./Library";
import { DocumentUnavailableError, type LibraryFollower } from "./LibraryFollower";
import { NotConfirmedError, type RelaySettings } from "./RelaySettings";
import type { RelaySync } from "./RelaySync";
import type { RenderCacheUpdates } from "./RenderCacheUpdates";
import { osFullName, type SettingsFile } from "./settings";

/** One handler per method of the contract (src/shared/api.ts), given its validated request. */
export type HostHandlers = {
  [M in HostMethod]: (request: Extract<HostRequest, { method: M }>) => HostResults[M] | Promise<HostResults[M]>;
};

/** The parts of the host the renderer's requests reach. */
export interface HostParts {
  follower: LibraryFollower;
  documents: HostDocuments;
  settings: SettingsFile;
  relaySettings: RelaySettings;
  relays: RelaySync;
  renderCache: RenderCacheUpdates;
  /** The main thread's storage, read for `savedDocument`. */
  storage: RetryingStorage;
  status: () => HostStatus;
  integrityChecks: IntegrityMode;
  logger: Logger;
}

/**
 * The host's side of the contract with the renderer: each request is validated against
 * the shared schema (the payload is untrusted), handled by the one handler for its
 * method, and answered with a value or an error, never a throw.
 */
export class HostApi {
  readonly #handlers: HostHandlers;
  readonly #logger: Logger;

  constructor(handlers: HostHandlers, logger: Logger) {
    this.#handlers = handlers;
    this.#logger = logger;
  }

  async handle(payload: unknown): Promise<HostResponse<HostMethod>> {
    const parsed = requestSchema.safeParse(payload);
    if (!parsed.success) {
      return { ok: false, error: { code: "invalid-request", message: parsed.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ") } };
    }
    const request = parsed.data;
    // The map is typed method by method; TypeScript cannot follow one method through a union.
    const handler = this.#handlers[request.method] as (request: HostRequest) => Promise<HostResults[HostMethod]> | HostResults[HostMethod];
    try {
      return { ok: true, value: await handler(request) };
    } catch (error) {
      const code = errorCode(error);
      if (code === "internal") this.#logger.error({ err: error, method: request.method }, "request failed");
      return { ok: false, error: { code, message: (error as Error).message } };
    }
  }
}

function errorCode(error: unknown): HostError["code"] {
  if (error instanceof DocumentNotFoundError) return "not-found";
  if (error instanceof DocumentUnavailableError) return "unavailable";
  if (error instanceof RangeError) return "invalid-request";
  if (error instanceof NotConfirmedError) return "not-confirmed";
  return "internal";
}

/** What each method does, in terms of the host's parts. */
export function hostHandlers(parts: HostParts): HostHandlers {
  const { follower, documents, settings, relaySettings, relays, renderCache, logger } = parts;
  const library = () => follower.library;
  const idOf = (url: string) => url.slice("automerge:".length);
  return {
    bootstrap: () => bootstrap(parts),
    createDocument: (req) => ({ url: library().create(req.title ?? "") }),
    duplicateDocument: async (req) => ({ url: await library().duplicate(req.url) }),
    renameDocument: async (req) => {
      await library().rename(req.url, req.title);
      return null;
    },
    trashDocument: async (req) => {
      library().trash(req.url);
      if (settings.current.lastOpened === req.url) await settings.update({ lastOpened: null });
      return null;
    },
    restoreDocument: (req) => {
      library().restore(req.url);
      return null;
    },
    deleteForever: async (req) => {
      await library().deleteForever(req.url);
      await renderCache.forget([idOf(req.url)]);
      return null;
    },
    emptyTrash: async () => {
      // Deleted for good means its text is gone from the disk, cache included.
      const trashed = Object.values(library().entries()).filter((e) => e.trashedAt !== null).map((e) => idOf(e.url));
      const deleted = await library().emptyTrash();
      await renderCache.forget(trashed);
      return { deleted };
    },
    search: (req) => library().search(req.query),
    setLastOpened: async (req) => {
      // A shared document still on its way counts: it reopens once it is here.
      if (req.url !== null && !library().entries()[idOf(req.url)] && !settings.current.wanted.includes(req.url)) throw new DocumentNotFoundError(req.url);
      await settings.update({ lastOpened: req.url });
      return null;
    },
    status: () => parts.status(),
    reconnectNow: () => {
      relays.retryNow();
      return null;
    },
    reportDrift: (req) => {
      // Positions and what happened, never the writer's text: logs get shared.
      logger.warn({ url: req.url, at: req.at, after: req.after }, "a window's editor drifted from the document and was re-rendered from it");
      return null;
    },
    renderCache: (req) => renderCache.read(idOf(req.url)),
    savedDocument: (req) => savedDocument(parts, idOf(req.url)),
    // Every change named by the heads on this computer's disk: the host has them and no
    // save of the document still waits for a failing disk. "Saved" shows only this answer.
    confirmSaved: async (req) => ({ saved: await documents.confirmSaved(idOf(req.url), req.heads) }),
    syncStatus: async (req) =>
      relays.status(req.url ? parseAutomergeUrl(req.url as AutomergeUrl).documentId : null, await documents.relayConfirmed(relays.connectedStorageId)),
    getSettings: () => ({
      user: { name: settings.current.user.name, color: settings.current.user.color },
      libraryUrl: library().url,
      ...relaySettings.view(),
    }),
    setProfile: async (req) => {
      await settings.update({ user: { name: req.name, color: req.color, confirmed: true } });
      return null;
    },
    addRelay: async (req) => ({ id: await relaySettings.add(req) }),
    updateRelay: async (req) => {
      await relaySettings.update(req);
      return null;
    },
    removeRelay: async (req) => {
      await relaySettings.remove(req.id);
      return null;
    },
    moveRelay: async (req) => {
      await relaySettings.move(req.id, req.index);
      return null;
    },
    importBackup: (req) =>
      // The copy's new title is the importing writer's change, named so in its history.
      library().importBackup(new Uint8Array(Buffer.from(req.data, "base64")), req.existing ?? "ask", {
        name: settings.current.user.name,
        color: settings.current.user.color,
        writer: settings.current.writerId,
      }),
    openSharedDocument: async (req) => {
      await follower.openShared(checkedUrl(req.url));
      return { url: req.url };
    },
    linkLibrary: async (req) => ({ libraryUrl: await follower.link(checkedUrl(req.url)) }),
  };
}

function bootstrap({ settings, follower, status, integrityChecks }: HostParts): Bootstrap {
  const s = settings.current;
  const library = follower.library;
  // A document in the library and not in the trash, or a shared one still on its way
  // (opened from a link, or by a writer:// link Writer was started with): it opens once here.
  const listed = s.lastOpened && library.entries()[s.lastOpened.slice("automerge:".length)];
  const lastOpened = s.lastOpened && (listed ? listed.trashedAt === null : s.wanted.includes(s.lastOpened)) ? s.lastOpened : null;
  return {
    libraryUrl: library.url,
    lastOpened,
    user: { name: s.user.name, color: s.user.color },
    nameConfirmed: s.user.confirmed,
    suggestedName: s.user.confirmed ? "" : osFullName(),
    writerId: s.writerId,
    status: status(),
    integrityChecks,
  };
}

/**
 * The document's saved chunks (snapshots, then incrementals: what automerge-repo's own
 * load reads), for the window to load instead of receiving the whole history through
 * sync, change by change, which costs several times more. Read from disk rather than
 * saved from memory: it costs this thread no Automerge work, and whatever is newer (not
 * yet written) comes by the sync that follows. Only documents of the library; null
 * otherwise, or when it is not on this disk, or larger than a backup may be.
 */
async function savedDocument({ follower, storage }: HostParts, documentId: string): Promise<{ base64: string } | null> {
  if (!follower.library.entries()[documentId]) return null;
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const kind of ["snapshot", "incremental"]) {
    for (const chunk of await storage.loadRange([documentId, kind])) {
      if (!chunk.data) continue;
      parts.push(chunk.data);
      size += chunk.data.length;
      if (size > BACKUP_MAX_BYTES) return null;
    }
  }
  if (parts.length === 0) return null;
  return { base64: Buffer.concat(parts).toString("base64") };
}

/** A link's checksum is checked before it goes anywhere: a link cut short is the writer's to fix. */
function checkedUrl(url: string): AutomergeUrl {
  if (!isValidAutomergeUrl(url)) throw new RangeError("That link is damaged or cut short; copy it again.");
  return url;
}
