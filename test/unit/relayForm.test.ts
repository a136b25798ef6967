import { describe, expect, it } from "vitest";
import { relayFieldErrors, enterNewToken } from "../../src/shared/relayForm";

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

describe("the New token form of a relay already added", () => {
  const token = "Tok3n-for-this-relay_aaaaaaaaaaaaaaaaaaaaaaa";
  it("takes a token as it is", () => {
    expect(enterNewToken("wss://relay.example.org", token)).toEqual({ token, fromInvite: false });
  });

  it("takes the token of an invite for this relay, out of sight", () => {
    expect(enterNewToken("wss://relay.example.org/team", `https://relay.example.org/team/invite#${token}`)).toEqual({ token, fromInvite: true });
    expect(enterNewToken("wss://relay.example.org/", `https://relay.example.org/invite#${token}`)).toEqual({ token, fromInvite: true });
  });

  it("refuses an invite for another relay, saying which, without its token", () => {
    const entry = enterNewToken("wss://relay.example.org", `https://other.example.org/invite#${token}`);
    expect(entry).toMatchObject({ token: "", fromInvite: false, error: "That invite is for wss://other.example.org, not this relay: add it with Add a relay." });
    expect(entry.error).not.toContain(token);
  });

  it("says what is wrong with a damaged invite, without its token", () => {
    const entry = enterNewToken("wss://relay.example.org", "https://relay.example.org/invite#short");
    expect(entry.token).toBe("");
    expect(entry.error).toMatch(/damaged/);
  });
});
