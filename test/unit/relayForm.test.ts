import { describe, expect, it } from "vitest";
import { relayFieldErrors } from "../../src/shared/relayForm";

const ok = { url: "wss://relay.example.org", name: "", token: "abc_DEF-123", noToken: false };

describe("the Add a relay form's fields", () => {
  it("accepts a wss:// address and a token, and names nothing wrong", () => {
    expect(relayFieldErrors(ok)).toEqual({});
    expect(relayFieldErrors({ ...ok, url: "ws://127.0.0.1:4000", token: "", noToken: true })).toEqual({});
  });

  it("refuses an empty token unless the relay takes none", () => {
    expect(relayFieldErrors({ ...ok, token: "   " })).toEqual({ token: "Paste the token the relay's administrator gave you." });
    expect(relayFieldErrors({ ...ok, token: "two words" }).token).toMatch(/one word/);
  });

  it("says what is wrong with an address", () => {
    expect(relayFieldErrors({ ...ok, url: "" }).url).toMatch(/Paste the relay's address/);
    expect(relayFieldErrors({ ...ok, url: "https://relay.example.org" }).url).toBe("A relay's address starts with wss:// (not https://).");
    expect(relayFieldErrors({ ...ok, url: "relay.example.org" }).url).toMatch(/starts with wss:\/\//);
    expect(relayFieldErrors({ ...ok, url: "wss://relay.example.org/?token=abc" }).url).toMatch(/Leave the token out/);
    expect(relayFieldErrors({ ...ok, name: "x".repeat(81) }).name).toMatch(/under 80/);
  });
});
