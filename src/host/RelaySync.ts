import os from "node:os";
import type { Logger } from "pino";
import type { DocumentId, StorageId } from "@automerge/automerge-repo";
import { RelayClientAdapter, type RelayConnectionState, type RelayEndpoint } from "../node/sync/RelayClientAdapter";
import type { RelayErrorCode, SyncStatus } from "../shared/api";
import type { Settings } from "./settings";
import { SecretUnreadableError, type SecretStore } from "./secrets";

type RelaySetting = Settings["relays"][number];

/** How often the host looks for a change of network (addresses come and go). */
const NETWORK_CHECK_MS = 2000;

/** The computer's non-internal addresses, as one string that changes when the network does. */
function networkFingerprint(): string {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal)
    .map((a) => a.address)
    .sort()
    .join(",");
}

/**
 * Calls `onChange` when the computer's network changes (`fingerprint` differs from the
 * last look), looking every `everyMs`; returns the function that stops watching.
 */
export function watchNetwork(onChange: () => void, options: { fingerprint?: () => string; everyMs?: number } = {}): () => void {
  const fingerprint = options.fingerprint ?? networkFingerprint;
  let network = fingerprint();
  const timer = setInterval(() => {
    const now = fingerprint();
    if (now === network) return;
    network = now;
    onChange();
  }, options.everyMs ?? NETWORK_CHECK_MS);
  timer.unref?.();
  return () => clearInterval(timer);
}

/** The key under which a relay's token is kept in the SecretStore. */
export function relayTokenKey(relayId: string): string {
  return `relay:${relayId}`;
}

/**
 * The host's side of syncing through relays: one RelayClientAdapter on the host's
 * Repo, fed from the settings' ordered relay list and the sealed tokens, and the
 * status the writer sees, computed from what the relay has confirmed (its heads),
 * never from what was merely sent.
 */
export class RelaySync {
  readonly adapter: RelayClientAdapter;
  readonly #secrets: SecretStore;
  readonly #logger: Logger;
  #relays: RelaySetting[];
  /** A token that could not be unsealed, reported until the writer enters it again. */
  #secretError: { relayName: string; message: string } | null = null;
  readonly #onConnected: () => void;

  constructor(args: {
    relays: RelaySetting[];
    secrets: SecretStore;
    logger: Logger;
    onConnected: () => void;
    /** How the network is watched (tests give their own fingerprint). */
    network?: { fingerprint?: () => string; everyMs?: number };
  }) {
    this.#secrets = args.secrets;
    this.#logger = args.logger;
    this.#relays = args.relays;
    this.#onConnected = args.onConnected;
    this.adapter = new RelayClientAdapter({
      endpoints: this.#endpoints(),
      onEvent: ({ level, message, url, error }) => this.#logger[level]({ relay: this.#relayFor(url)?.name, url, error }, message),
    });
    this.adapter.onState((state) => {
      if (state.status === "connected") this.#onConnected();
    });
    // A new network (Wi-Fi joined, a cable plugged in, a VPN up) is the moment the relay
    // becomes reachable again: try at once instead of at the end of the pause.
    this.#stopWatching = watchNetwork(() => {
      this.#logger.info("the network changed: trying the relays again now");
      this.adapter.retryNow();
    }, args.network);
  }

  readonly #stopWatching: () => void;

  /** "Try now": the relays again, without waiting for the pause to end. */
  retryNow(): void {
    this.adapter.retryNow();
  }

  /** Stops watching the network (the host is closing). */
  stop(): void {
    this.#stopWatching();
  }

  /** The relay list changed (added, removed, reordered, new token). */
  update(relays: RelaySetting[]): void {
    this.#relays = relays;
    this.adapter.setEndpoints(this.#endpoints());
  }

  /** The storage ID of the relay connected now, whose heads say what it has. */
  get connectedStorageId(): StorageId | null {
    const state = this.adapter.state;
    return state.status === "connected" ? state.storageId : null;
  }

  /**
   * What the writer sees. `confirmed`: for each document in memory (on the main thread
   * or in a document worker), whether the connected relay has our heads (documentOps.ts,
   * `relayConfirmed` with `connectedStorageId`).
   */
  status(documentId: DocumentId | null, confirmed: readonly [string, boolean][]): SyncStatus {
    const state: RelayConnectionState = this.adapter.state;
    const base: SyncStatus = { connection: "off", relay: null, error: null, retryAt: null, pending: 0, document: null };
    if (this.#relays.length === 0) return base;
    const secretError = this.#secretError ? { code: "secret-unreadable" as RelayErrorCode, ...this.#secretError } : null;
    switch (state.status) {
      case "offline":
        return { ...base, connection: "offline", error: secretError };
      case "waiting":
        return { ...base, connection: "offline", retryAt: state.retryAt, error: this.#describe(state.lastError) ?? secretError };
      case "connecting":
        return { ...base, connection: "connecting", relay: this.#relayView(state.url), error: this.#describe(state.lastError) ?? secretError };
      case "connected": {
        const pending = confirmed.filter(([, on]) => !on).length;
        const entry = confirmed.find(([id]) => id === documentId);
        const document: SyncStatus["document"] = entry ? (entry[1] ? "on-relay" : "pending") : null;
        const relay = this.#relayView(state.url);
        const notice = state.notice ? { code: "refused" as RelayErrorCode, message: `${relay?.name ?? state.url}: ${state.notice}`, relayName: relay?.name ?? state.url } : null;
        return { ...base, connection: "connected", relay, pending, document, error: notice ?? secretError };
      }
    }
  }

  #endpoints(): RelayEndpoint[] {
    this.#secretError = null;
    const endpoints: RelayEndpoint[] = [];
    for (const relay of this.#relays) {
      let token: string | null = null;
      try {
        token = this.#secrets.get(relayTokenKey(relay.id));
      } catch (error) {
        if (!(error instanceof SecretUnreadableError)) throw error;
        // Skip the relay rather than connect without its token and be refused.
        this.#secretError = { relayName: relay.name, message: `The token for ${relay.name} could not be read from the keychain; enter it again in Settings.` };
        this.#logger.error({ relay: relay.name, reason: error.reason }, "relay token unreadable");
        continue;
      }
      endpoints.push({ url: relay.url, token });
    }
    return endpoints;
  }

  #relayFor(url: string | undefined): RelaySetting | undefined {
    return url === undefined ? undefined : this.#relays.find((r) => r.url === url);
  }

  #relayView(url: string): { id: string; name: string } | null {
    const relay = this.#relayFor(url);
    return relay ? { id: relay.id, name: relay.name } : null;
  }

  #describe(error: { code: RelayErrorCode; message: string; url: string } | null): SyncStatus["error"] {
    if (!error) return null;
    const name = this.#relayFor(error.url)?.name ?? error.url;
    return { code: error.code, message: `${name}: ${error.message}`, relayName: name };
  }
}
