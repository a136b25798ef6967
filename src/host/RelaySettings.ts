import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { SettingsView } from "../shared/api";
import { relayTokenKey, type RelaySync } from "./RelaySync";
import type { SecretStore } from "./secrets";
import type { Settings, SettingsFile } from "./settings";

/** A relay change the writer confirms outside the renderer (HostOptions.confirmRelay). */
export interface RelayChange {
  kind: "add" | "move";
  name: string;
  url: string;
  /** The address it had, when it moves. */
  previousUrl?: string;
  /** Documents in the library now: all of them go to the relay. */
  documents: number;
}

/** Asks the writer, outside the renderer, whether a relay may be added or moved. */
export type ConfirmRelay = (change: RelayChange) => Promise<boolean>;

/** What the settings say where nothing outside the page confirms relay changes (the browser shell). */
const RELAY_TRUST_NOTE =
  "In the browser shell this page is trusted: anything running in it can add a relay and send it your documents. The desktop app asks you in a window of its own.";

/** The writer said no to a relay change (HostOptions.confirmRelay). */
export class NotConfirmedError extends Error {
  override readonly name = "NotConfirmedError";
}

/**
 * The writer's relays: the ordered list in the settings, each relay's token in the
 * SecretStore only (never in the settings, never back to a window), and the changes
 * that send the library somewhere new (adding a relay, moving one to a new address)
 * confirmed by the writer outside the renderer when the app can ask (`confirm`).
 * Every change reaches RelaySync, which connects accordingly.
 */
export class RelaySettings {
  readonly #settings: SettingsFile;
  readonly #secrets: SecretStore;
  readonly #sync: RelaySync;
  readonly #documentCount: () => number;
  readonly #confirm: ConfirmRelay | undefined;
  readonly #logger: Logger;

  constructor(args: { settings: SettingsFile; secrets: SecretStore; sync: RelaySync; documentCount: () => number; confirm: ConfirmRelay | undefined; logger: Logger }) {
    this.#settings = args.settings;
    this.#secrets = args.secrets;
    this.#sync = args.sync;
    this.#documentCount = args.documentCount;
    this.#confirm = args.confirm;
    this.#logger = args.logger;
  }

  /** The relays as a window sees them: whether each has a token, never the token. */
  view(): Pick<SettingsView, "relays" | "secrets" | "relayTrust"> {
    return {
      relays: this.#settings.current.relays.map((r) => ({ ...r, hasToken: this.#secrets.has(relayTokenKey(r.id)) })),
      secrets: { backend: this.#secrets.backend, weakness: this.#secrets.weakness },
      relayTrust: this.#confirm ? null : RELAY_TRUST_NOTE,
    };
  }

  /** Adds a relay at the end of the list. */
  async add(relay: { name: string; url: string; token: string | null }): Promise<string> {
    if (this.#settings.current.relays.some((r) => r.url === relay.url)) throw new RangeError(`${relay.url} is already in your relays.`);
    await this.#confirmed({ kind: "add", name: relay.name, url: relay.url });
    const id = randomBytes(8).toString("hex");
    if (relay.token) await this.#secrets.set(relayTokenKey(id), relay.token);
    await this.#set([...this.#settings.current.relays, { id, name: relay.name, url: relay.url }]);
    return id;
  }

  async update(update: { id: string; name?: string; url?: string; token?: string | null }): Promise<void> {
    const relays = this.#settings.current.relays.map((r) => ({ ...r }));
    const relay = relays.find((r) => r.id === update.id);
    if (!relay) throw new RangeError("No such relay.");
    if (update.url !== undefined && relays.some((r) => r.id !== update.id && r.url === update.url)) throw new RangeError(`${update.url} is already in your relays.`);
    // A token belongs to the relay it was issued for: a new address without a new token
    // drops the old one, or whoever can call this (a page taken over by a hostile
    // document) could send the writer's token to a server of its choosing.
    const moved = update.url !== undefined && update.url !== relay.url;
    if (moved) await this.#confirmed({ kind: "move", name: update.name ?? relay.name, url: update.url!, previousUrl: relay.url });
    if (update.name !== undefined) relay.name = update.name;
    if (update.url !== undefined) relay.url = update.url;
    if (update.token === null || (moved && update.token === undefined)) await this.#secrets.delete(relayTokenKey(relay.id));
    else if (update.token !== undefined) await this.#secrets.set(relayTokenKey(relay.id), update.token);
    await this.#set(relays);
  }

  async remove(id: string): Promise<void> {
    if (!this.#settings.current.relays.some((r) => r.id === id)) throw new RangeError("No such relay.");
    await this.#secrets.delete(relayTokenKey(id));
    await this.#set(this.#settings.current.relays.filter((r) => r.id !== id));
  }

  /** Moves a relay to `index` in the order relays are tried. */
  async move(id: string, index: number): Promise<void> {
    const relays = [...this.#settings.current.relays];
    const from = relays.findIndex((r) => r.id === id);
    if (from < 0) throw new RangeError("No such relay.");
    const [moved] = relays.splice(from, 1);
    relays.splice(Math.min(index, relays.length), 0, moved!);
    await this.#set(relays);
  }

  /** Asks the writer outside the renderer, when the app can; throws if they say no. */
  async #confirmed(change: Omit<RelayChange, "documents">): Promise<void> {
    if (!this.#confirm) return;
    if (await this.#confirm({ ...change, documents: this.#documentCount() })) return;
    this.#logger.info({ url: change.url, kind: change.kind }, "relay change not confirmed by the writer");
    throw new NotConfirmedError(change.kind === "add" ? `${change.name} was not added: you did not confirm it.` : `${change.name} keeps its address: you did not confirm the new one.`);
  }

  async #set(relays: Settings["relays"]): Promise<void> {
    await this.#settings.update({ relays });
    this.#sync.update(relays);
  }
}
