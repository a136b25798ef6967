/**
 * The contract between the renderer and the host: one typed file shared by the host,
 * the Electron preload and the browser shell. Every request is validated here on the
 * host side before it reaches any handler; results are `{ ok, value } | { ok, error }`
 * rather than exceptions thrown across the process boundary.
 */
import * as z from "zod";

/** The browser shell's path for importBackup, whose body may be large (every other call goes to /api). */
export const IMPORT_BACKUP_PATH = "/api/import-backup";

/** Backups up to 24 MB are imported (their base64 is a third longer). */
export const BACKUP_MAX_BYTES = 24 * 1024 * 1024;
const BACKUP_BASE64_MAX = Math.ceil(BACKUP_MAX_BYTES / 3) * 4;

/** An automerge URL: `automerge:` followed by a base58check document ID. */
export const documentUrlSchema = z
  .string()
  .max(100)
  .regex(/^automerge:[1-9A-HJ-NP-Za-km-z]{20,60}$/, "not a document link");

const titleSchema = z.string().max(500);

/** A relay's address: ws:// or wss://, no credentials in it (tokens are stored apart). */
export const relayUrlSchema = z
  .string()
  .trim()
  .max(500)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "ws:" || url.protocol === "wss:") && !url.username && !url.password && !url.hash && !url.searchParams.has("token");
    } catch {
      return false;
    }
  }, "a relay address starts with wss:// (or ws:// on a local network) and holds no token");

const relayIdSchema = z.string().regex(/^[a-z0-9]{8,32}$/, "not a relay ID");
const relayNameSchema = z.string().trim().min(1, "give the relay a name").max(80);
/** Relay tokens as `npm run relay -- token add` prints them; null for anonymous relays. */
export const relayTokenSchema = z.string().trim().min(1).max(1000).regex(/^[A-Za-z0-9_\-.~+/=]+$/, "a token is one word of letters, digits and -_.~+/=");
export const colorSchema = z.string().regex(/^#[0-9a-fA-F]{6}$/, "not a colour");

export const requestSchema = z.discriminatedUnion("method", [
  z.object({ method: z.literal("bootstrap") }),
  z.object({ method: z.literal("createDocument"), title: titleSchema.optional() }),
  z.object({ method: z.literal("duplicateDocument"), url: documentUrlSchema }),
  z.object({ method: z.literal("renameDocument"), url: documentUrlSchema, title: titleSchema }),
  z.object({ method: z.literal("trashDocument"), url: documentUrlSchema }),
  z.object({ method: z.literal("restoreDocument"), url: documentUrlSchema }),
  z.object({ method: z.literal("deleteForever"), url: documentUrlSchema }),
  z.object({ method: z.literal("emptyTrash") }),
  z.object({ method: z.literal("search"), query: z.string().max(500) }),
  z.object({ method: z.literal("setLastOpened"), url: documentUrlSchema.nullable() }),
  z.object({ method: z.literal("status") }),
  z.object({ method: z.literal("reconnectNow") }),
  z.object({ method: z.literal("reportDrift"), url: documentUrlSchema, at: z.number().int().min(0).max(1e9), after: z.string().max(500) }),
  z.object({ method: z.literal("syncStatus"), url: documentUrlSchema.nullable() }),
  z.object({ method: z.literal("getSettings") }),
  z.object({ method: z.literal("setProfile"), name: z.string().trim().min(1).max(80), color: colorSchema }),
  z.object({ method: z.literal("addRelay"), name: relayNameSchema, url: relayUrlSchema, token: relayTokenSchema.nullable() }),
  z.object({ method: z.literal("updateRelay"), id: relayIdSchema, name: relayNameSchema.optional(), url: relayUrlSchema.optional(), token: relayTokenSchema.nullable().optional() }),
  z.object({ method: z.literal("removeRelay"), id: relayIdSchema }),
  z.object({ method: z.literal("moveRelay"), id: relayIdSchema, index: z.number().int().min(0).max(100) }),
  z.object({ method: z.literal("openSharedDocument"), url: documentUrlSchema }),
  z.object({ method: z.literal("linkLibrary"), url: documentUrlSchema }),
  z.object({
    method: z.literal("importBackup"),
    /** The backup file (a saved Automerge document), base64. */
    data: z.string().min(1).max(BACKUP_BASE64_MAX, "the backup is larger than Writer imports (24 MB)").regex(/^[A-Za-z0-9+/]+={0,2}$/, "not base64"),
    /** When the library already has the backup's document: ask (the default), merge into it, or keep both. */
    existing: z.enum(["ask", "merge", "keep-both"]).optional(),
  }),
  z.object({ method: z.literal("renderCache"), url: documentUrlSchema }),
  z.object({ method: z.literal("savedDocument"), url: documentUrlSchema }),
  z.object({
    method: z.literal("confirmSaved"),
    url: documentUrlSchema,
    heads: z.array(z.string().regex(/^[0-9a-f]{64}$/, "not a change hash")).max(64),
  }),
]);

export type HostRequest = z.infer<typeof requestSchema>;
export type HostMethod = HostRequest["method"];

/**
 * What the window shows of a document while the document itself loads (the host's
 * render cache): its title and rich-text spans at `heads`. Read-only, never
 * trusted over the document.
 */
export interface RenderCacheView {
  heads: string[];
  title: string;
  /** Automerge's spans of the text (A.spans), as JSON. */
  spans: unknown[];
}

export interface UserProfile {
  name: string;
  color: string;
}

/** A storage problem the writer must hear about (a quarantined chunk, a failed write). */
export interface StorageProblem {
  kind: "corrupt-chunk" | "write-failed";
  documentUrl: string | null;
  message: string;
  at: number;
}

export interface HostStatus {
  /** False while the last write to disk failed; edits are kept and retried. */
  storageOk: boolean;
  problems: StorageProblem[];
}

/** A relay as the renderer may see it: never its token, only whether one is saved. */
export interface RelayInfo {
  id: string;
  name: string;
  url: string;
  hasToken: boolean;
}

export type RelayErrorCode = "unauthorized" | "unreachable" | "version-mismatch" | "refused" | "timeout" | "protocol" | "secret-unreadable";

export interface SyncStatus {
  /**
   * `off`: no relay configured (local only). `offline`: relays configured, none
   * reachable, retrying at `retryAt`. `connecting`: trying `relay`. `connected`: syncing
   * with `relay`.
   */
  connection: "off" | "offline" | "connecting" | "connected";
  relay: { id: string; name: string } | null;
  /** Why the last attempt failed, in words for the writer. */
  error: { code: RelayErrorCode; message: string; relayName: string } | null;
  retryAt: number | null;
  /** Open documents with changes the connected relay has not confirmed (by its heads). */
  pending: number;
  /** The asked-for document: every change of it confirmed by the relay, or not. */
  document: "on-relay" | "pending" | null;
}

export interface SettingsView {
  user: UserProfile;
  relays: RelayInfo[];
  libraryUrl: string;
  /** Where relay tokens are kept, and why that is weak when it is. */
  secrets: { backend: string; weakness: string | null };
  /** Where no window of the app's own confirms relay changes (the browser shell): says the page is trusted. */
  relayTrust: string | null;
}

export interface Bootstrap {
  libraryUrl: string;
  lastOpened: string | null;
  user: UserProfile;
  status: HostStatus;
  /** Whether the writer chose their name; until then the app asks. */
  nameConfirmed: boolean;
  /** The operating system's full name for the user, to suggest ("" when there is none). */
  suggestedName: string;
  /** This writer across renames (16 hex digits): history names follow it. */
  writerId: string;
  /** How the editor checks that it shows the document (renderer/src/editor/integrity.ts). */
  integrityChecks: IntegrityMode;
}

/** "strict": a mismatch fails loudly (development, tests); "repair": re-render and log. */
export type IntegrityMode = "strict" | "repair";

export interface SearchHit {
  url: string;
  title: string;
  /** Text around the first match; `match` is the [start, end) of the match in it. */
  context: string;
  match: [number, number] | null;
}

/** What each method returns. */
export interface HostResults {
  bootstrap: Bootstrap;
  createDocument: { url: string };
  duplicateDocument: { url: string };
  renameDocument: null;
  trashDocument: null;
  restoreDocument: null;
  deleteForever: null;
  emptyTrash: { deleted: number };
  search: SearchHit[];
  setLastOpened: null;
  status: HostStatus;
  reportDrift: null;
  /** Tries the relays again now ("Try now"). */
  reconnectNow: null;
  /** True once every change named by `heads` is on this computer's disk. */
  confirmSaved: { saved: boolean };
  renderCache: RenderCacheView | null;
  /**
   * The document as this computer's disk holds it (base64 of its saved chunks, which
   * `Automerge.load` reads), for the window to load instead of receiving the whole history
   * through sync; null when the disk does not have it (or it is too large to pass).
   */
  savedDocument: { base64: string } | null;
  syncStatus: SyncStatus;
  getSettings: SettingsView;
  setProfile: null;
  addRelay: { id: string };
  updateRelay: null;
  removeRelay: null;
  moveRelay: null;
  openSharedDocument: { url: string };
  linkLibrary: { libraryUrl: string };
  importBackup: ImportedBackup;
}

/** What to do with a backup of a document the library already has (importBackup). */
export type ImportExisting = "ask" | "merge" | "keep-both";

/**
 * An imported backup: a new document, merged into the one it is a backup of, or a new
 * copy beside it; or (when asked) the document the library already has, nothing imported.
 */
export type ImportedBackup =
  | { url: string; title: string; outcome: "new" | "merged" | "kept-both" }
  | { known: { url: string; title: string; updatedAt: number; trashed: boolean } };

export interface HostError {
  code: "invalid-request" | "not-found" | "unavailable" | "storage" | "internal" | "not-confirmed";
  message: string;
}

export type HostResponse<M extends HostMethod> =
  | { ok: true; value: HostResults[M] }
  | { ok: false; error: HostError };

/** A request of one method, without its discriminator. */
export type ParamsOf<M extends HostMethod> = Omit<Extract<HostRequest, { method: M }>, "method">;

/**
 * How the renderer reaches the host, whatever carries it (Electron IPC or HTTP on
 * loopback). Implementations never throw for host-side failures: they return them.
 */
export interface HostTransport {
  call<M extends HostMethod>(request: Extract<HostRequest, { method: M }>): Promise<HostResponse<M>>;
}

export { IPC_CHANNEL, IPC_SYNC_PORT } from "./ipc";
