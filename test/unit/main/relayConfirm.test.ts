import { describe, expect, it } from "vitest";
import { relayQuestion } from "../../../src/main/relayConfirm";

describe("the desktop app's question before a relay gets the library", () => {
  it("names the relay, its address and how many documents go there; Cancel is the default and what Escape does", () => {
    const q = relayQuestion({ kind: "add", name: "Team relay", url: "wss://relay.example.org", documents: 12 });
    expect(q.message).toBe("Sync your library through “Team relay”?");
    expect(q.detail).toContain("12 documents");
    expect(q.detail).toContain("wss://relay.example.org");
    expect(q.buttons).toEqual(["Cancel", "Add relay"]);
    expect([q.defaultId, q.cancelId]).toEqual([0, 0]);
  });

  it("for a new address, says both the new one and the old one", () => {
    const q = relayQuestion({ kind: "move", name: "Team relay", url: "wss://elsewhere.example", previousUrl: "wss://relay.example.org", documents: 1 });
    expect(q.message).toBe("Move “Team relay” to a new address?");
    expect(q.detail).toContain("1 document to the new address:\n\nwss://elsewhere.example");
    expect(q.detail).toContain("instead of wss://relay.example.org");
    expect(q.buttons[1]).toBe("Change address");
  });
});
