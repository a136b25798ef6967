import { describe, expect, it } from "vitest";
import { isValidPresenceMessage, parsePresence } from "../../src/renderer/src/presence/state";

describe("presence messages from other peers", () => {
  it("accepts what automerge-repo's Presence sends with Writer's state", () => {
    const state = { user: { name: "Ada", color: "#1e66f5" }, selection: { anchor: "12@abc", head: "e" } };
    expect(isValidPresenceMessage({ __presence: { type: "snapshot", state } })).toBe(true);
    expect(isValidPresenceMessage({ __presence: { type: "update", channel: "selection", value: null } })).toBe(true);
    expect(isValidPresenceMessage({ __presence: { type: "update", channel: "user", value: { name: "Bob", color: "#000000" } } })).toBe(true);
    expect(isValidPresenceMessage({ __presence: { type: "heartbeat" } })).toBe(true);
    expect(isValidPresenceMessage({ __presence: { type: "goodbye" } })).toBe(true);
    expect(parsePresence(state)).toEqual(state);
  });

  it("refuses anything else, without throwing", () => {
    for (const bad of [
      null,
      "text",
      42,
      [],
      { __presence: null },
      { __presence: "x" },
      { __presence: { type: "snapshot", state: { user: { name: "A", color: "red" } } } },
      { __presence: { type: "snapshot", state: { user: { name: 7, color: "#000000" } } } },
      { __presence: { type: "update", channel: "__proto__", value: {} } },
      { __presence: { type: "update", channel: "selection", value: { anchor: "x".repeat(500), head: "y" } } },
      { __presence: { type: "explode" } },
      { type: "writer/change", change: new Uint8Array(1) },
    ]) {
      expect(isValidPresenceMessage(bad)).toBe(false);
    }
  });

  it("cleans names and drops a bad selection but keeps the peer", () => {
    expect(parsePresence({ user: { name: "  Ada\u0000\u001b[31m  ", color: "#ABCDEF" }, selection: { anchor: 1, head: 2 } })).toEqual({ user: { name: "Ada[31m", color: "#ABCDEF" }, selection: null });
    expect(parsePresence({ user: { name: "", color: "#abcdef" }, selection: null })?.user.name).toBe("Someone");
    expect(parsePresence({ user: { name: "x".repeat(300), color: "#abcdef" } })?.user.name).toHaveLength(80);
  });
});
