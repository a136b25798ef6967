/**
 * The contract between the renderer and the host: one typed file shared by the host,
 * the Electron preload and the browser shell. Every request is validated here on the
 * host side before it reaches any handler; results are `{ ok, value } | { ok, error }`
 * rather than exceptions thrown across the process boundary.
 */
import { z } from "zod";

/** An automerge URL: `automerge:` followed by a base58check document ID. */
export const documentUrlSchema = z
  .string()
  .max(100)
  .regex(/^automerge:[1-9A-HJ-NP-Za-km-z]{20,60}$/, "not a document link");

const titleSchema = z.string().max(500);

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
  z.object({
    method: z.literal("confirmSaved"),
    url: documentUrlSchema,
    heads: z.array(z.string().regex(/^[0-9a-f]{64}$/, "not a change hash")).max(64),
  }),
]);

export type HostRequest = z.infer<typeof requestSchema>;
export type HostMethod = HostRequest["method"];

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

export interface Bootstrap {
  libraryUrl: string;
  lastOpened: string | null;
  user: UserProfile;
  status: HostStatus;
}

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
  /** True once every change named by `heads` is on this computer's disk. */
  confirmSaved: { saved: boolean };
}

export interface HostError {
  code: "invalid-request" | "not-found" | "storage" | "internal";
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
