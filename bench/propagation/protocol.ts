/**
 * What run.ts and its client processes (client.ts) say to each other over the Node IPC
 * channel, and the shape of the shared document. Times are wall-clock milliseconds
 * (`performance.timeOrigin + performance.now()`), comparable across processes on one
 * machine.
 */

/** The shared document: one text every typist types into, one counter per typist. */
export interface BenchDoc {
  text: string;
  /** typist ID → the sequence number of its latest keystroke (1, 2, ...). */
  clock: Record<string, number>;
}

/** Sync settings of one client process; null keeps the product's own value. */
export interface ClientSettings {
  /** The renderer Repo's syncDebounceRate (ms). */
  rendererDebounceMs: number;
  /** Overrides the Host Repo's syncDebounceRate (Host.open sets 50) when not null. */
  hostDebounceMs: number | null;
  /** Host.open's saveDebounceMs when not null (its default: 20). */
  hostSaveDebounceMs: number | null;
  /**
   * How the host reaches the relay: "settings" adds it to the host's relay list, as the
   * writer does in Settings (the host's RelaySync and RelayClientAdapter);
   * "websocket" gives `host.connect()` a plain WebSocketClientAdapter.
   */
  adapter: "settings" | "websocket";
  /**
   * The renderer broadcasts each change and applies broadcast ones
   * (src/shared/sync/changeBroadcast.ts), as the app's renderer does.
   */
  fastPath: boolean;
}

export type ToClient =
  | { type: "init"; typist: string; typists: string[]; dataDir: string; relayUrl: string; token: string | null; settings: ClientSettings; create: boolean }
  | { type: "join"; url: string }
  | { type: "start"; at: number; seconds: number; rate: number; seed: number }
  | { type: "expect"; finals: Record<string, number> }
  | { type: "finish" };

export interface ClientReport {
  typist: string;
  /** Send time of each own keystroke, index seq - 1. */
  sent: number[];
  /** When each own keystroke reached the own host (index seq - 1; null: never). */
  ownHostArrival: (number | null)[];
  /** typist → when each of its keystrokes (index seq - 1) first showed in this renderer. */
  rendererArrival: Record<string, (number | null)[]>;
  /** typist → when each of its keystrokes first showed in this host. */
  hostArrival: Record<string, (number | null)[]>;
  rendererHeads: string[];
  hostHeads: string[];
  textLength: number;
  textHash: string;
  /** CPU time of this client process during the typing window, ms. */
  cpuMs: number;
  /** Keystrokes whose timer fired more than 50 ms late (event loop busy). */
  lateTimers: number;
  /** Messages the renderer sent to and received from the host, from the start of typing to the end. */
  rendererMessages: { sent: number; received: number };
  /** Messages the host sent to and received from the relay, from the start of typing to the end. */
  relayMessages: { sent: number; received: number };
}

export type FromClient =
  | { type: "ready"; url?: string }
  | { type: "joined" }
  | { type: "typed"; last: number }
  | { type: "caught-up" }
  | { type: "report"; report: ClientReport }
  | { type: "error"; message: string };

/** Wall-clock milliseconds, sub-millisecond, the same clock in every process. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}
