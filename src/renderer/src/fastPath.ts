/**
 * Whether this window broadcasts its keystrokes (src/shared/sync/changeBroadcast.ts):
 * only while the host is connected to a relay, that is while someone else may be there
 * to see them. Alone, a broadcast only costs: in a long document it slows keystroke to
 * paint (bench/typing has the figures), and sync carries every keystroke to the host at
 * once anyway.
 */
let relayConnected = false;

export function setRelayConnected(connected: boolean): void {
  relayConnected = connected;
}

export function broadcastKeystrokes(): boolean {
  return relayConnected;
}
