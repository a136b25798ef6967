import { describe, expect, it } from "vitest";
import { requestSchema } from "../../src/shared/api";
import { enterAddress, enterToken, relayFieldErrors, type RelayFields } from "../../src/shared/relayForm";
import { readRelayInvite, relayInviteLink } from "../../src/shared/relayInvite";

/** A token as `relay token invite` makes them: 43 characters of base64url. */
const TOKEN = "q5Yb0Xc-dR2_uVw9kLmNoPqRsTuVwXyZa1b2C3d4E5f";

describe("relay invite links", () => {
  it("are made from the relay's public address, https for wss and http for ws, keeping a path prefix", () => {
    expect(relayInviteLink("https://relay.example.org", TOKEN)).toBe(`https://relay.example.org/invite#${TOKEN}`);
    expect(relayInviteLink("wss://relay.example.org/", TOKEN)).toBe(`https://relay.example.org/invite#${TOKEN}`);
    expect(relayInviteLink("ws://192.168.1.10:8787", TOKEN)).toBe(`http://192.168.1.10:8787/invite#${TOKEN}`);
    expect(relayInviteLink("http://[::1]:8787", TOKEN)).toBe(`http://[::1]:8787/invite#${TOKEN}`);
    expect(relayInviteLink("wss://example.org/writer/", TOKEN)).toBe(`https://example.org/writer/invite#${TOKEN}`);
    expect(relayInviteLink("https://example.org/a/b", TOKEN)).toBe(`https://example.org/a/b/invite#${TOKEN}`);
  });

  it("are not made from an address writers cannot use", () => {
    expect(() => relayInviteLink("relay.example.org", TOKEN)).toThrow(/not an address/);
    expect(() => relayInviteLink("ftp://relay.example.org", TOKEN)).toThrow(/starts with https:\/\/ or wss:\/\//);
    expect(() => relayInviteLink("https://u:p@relay.example.org", TOKEN)).toThrow(/no user name/);
    expect(() => relayInviteLink("https://relay.example.org/?token=x", TOKEN)).toThrow(/without a query or token/);
    expect(() => relayInviteLink("https://relay.example.org", "short")).toThrow(/not a relay token/);
  });

  it("are read back into the relay's address and the token, whichever scheme they have", () => {
    expect(readRelayInvite(`https://relay.example.org/invite#${TOKEN}`)).toEqual({ kind: "invite", url: "wss://relay.example.org", token: TOKEN });
    expect(readRelayInvite(`http://192.168.1.10:8787/invite#${TOKEN}`)).toEqual({ kind: "invite", url: "ws://192.168.1.10:8787", token: TOKEN });
    expect(readRelayInvite(`wss://relay.example.org/invite#${TOKEN}`)).toEqual({ kind: "invite", url: "wss://relay.example.org", token: TOKEN });
    expect(readRelayInvite(`ws://localhost:8787/invite#${TOKEN}`)).toEqual({ kind: "invite", url: "ws://localhost:8787", token: TOKEN });
    // Pasted with the white space around it that mail and chat add.
    expect(readRelayInvite(`  https://relay.example.org/invite#${TOKEN}\n`)).toEqual({ kind: "invite", url: "wss://relay.example.org", token: TOKEN });
    // The default port goes, as it would in the address a writer types.
    expect(readRelayInvite(`https://relay.example.org:443/invite#${TOKEN}`)).toMatchObject({ url: "wss://relay.example.org" });
  });

  it("keep the path prefix a proxy serves the relay under, and drop a query a link tracker added", () => {
    expect(readRelayInvite(`https://h.example/writer/invite#${TOKEN}`)).toEqual({ kind: "invite", url: "wss://h.example/writer", token: TOKEN });
    expect(readRelayInvite(`https://h.example/a/b/invite/#${TOKEN}`)).toEqual({ kind: "invite", url: "wss://h.example/a/b", token: TOKEN });
    expect(readRelayInvite(`https://h.example/invite?utm_source=mail#${TOKEN}`)).toEqual({ kind: "invite", url: "wss://h.example", token: TOKEN });
  });

  it("round-trip: what the relay's CLI makes, the app reads", () => {
    for (const address of ["wss://relay.example.org", "ws://10.0.0.5:8787", "wss://example.org/writer", "wss://[2001:db8::1]:8443/x"]) {
      expect(readRelayInvite(relayInviteLink(address, TOKEN))).toEqual({ kind: "invite", url: address, token: TOKEN });
    }
  });

  it("say what is wrong with a damaged invite, never repeating its token", () => {
    const lost = readRelayInvite("https://relay.example.org/invite");
    expect(lost).toEqual({ kind: "damaged", url: "wss://relay.example.org", problem: expect.stringMatching(/lost its token/) });
    expect(readRelayInvite("https://relay.example.org/invite#")).toMatchObject({ kind: "damaged", problem: expect.stringMatching(/lost its token/) });
    const cut = TOKEN.slice(0, 12);
    const short = readRelayInvite(`https://relay.example.org/invite#${cut}`);
    expect(short).toMatchObject({ kind: "damaged", url: "wss://relay.example.org", problem: expect.stringMatching(/damaged/) });
    expect(JSON.stringify(short)).not.toContain(cut);
    const spaced = readRelayInvite(`https://relay.example.org/invite#${TOKEN} and more words`);
    expect(spaced).toMatchObject({ kind: "damaged" });
    expect(JSON.stringify(spaced)).not.toContain(TOKEN);
    const creds = readRelayInvite(`https://me:secret@relay.example.org/invite#${TOKEN}`);
    expect(creds).toMatchObject({ kind: "damaged", url: null });
    expect(JSON.stringify(creds)).not.toContain(TOKEN);
    const noScheme = readRelayInvite(`relay.example.org/invite#${TOKEN}`);
    expect(noScheme).toMatchObject({ kind: "damaged", url: null, problem: expect.stringMatching(/incomplete/) });
    expect(JSON.stringify(noScheme)).not.toContain(TOKEN);
  });

  it("leave anything that is not an invite as it is: addresses, tokens, other links", () => {
    for (const text of ["wss://relay.example.org", "ws://127.0.0.1:8787/", "wss://h.example/writer", "wss://h.example/invite", TOKEN, "", "https://relay.example.org", "https://example.org/page#section", "automerge:abc"]) {
      expect(readRelayInvite(text)).toEqual({ kind: "none" });
    }
  });
});

describe("an invite in the Add a relay form", () => {
  const empty: RelayFields = { url: "", name: "", token: "", noToken: false, invite: null };
  const invite = `https://relay.example.org/invite#${TOKEN}`;

  it("pasted in the address field: the address shows alone, the token is held, and the form can be sent", () => {
    const { fields, error } = enterAddress(empty, invite);
    expect(error).toBeUndefined();
    expect(fields).toEqual({ url: "wss://relay.example.org", name: "", token: TOKEN, noToken: false, invite: "wss://relay.example.org" });
    expect(relayFieldErrors(fields)).toEqual({});
  });

  it("pasted in the token field: the same, and the invite's address replaces one typed before", () => {
    const { fields, error } = enterToken({ ...empty, url: "wss://other.example.org" }, invite);
    expect(error).toBeUndefined();
    expect(fields).toMatchObject({ url: "wss://relay.example.org", token: TOKEN, invite: "wss://relay.example.org" });
  });

  it("a plain address or token is taken as typed", () => {
    expect(enterAddress(empty, "wss://relay.example.org")).toEqual({ fields: { ...empty, url: "wss://relay.example.org" } });
    expect(enterToken(empty, TOKEN)).toEqual({ fields: { ...empty, token: TOKEN } });
  });

  it("the invite's token goes when the address is changed to another server's, or another token is typed", () => {
    const { fields } = enterAddress(empty, invite);
    expect(enterAddress(fields, "wss://relay.example.org/").fields).toMatchObject({ token: TOKEN, invite: "wss://relay.example.org" });
    expect(enterAddress(fields, "wss://elsewhere.example.org").fields).toMatchObject({ url: "wss://elsewhere.example.org", token: "", invite: null });
    expect(enterAddress(fields, "").fields).toMatchObject({ token: "", invite: null });
    expect(enterToken(fields, "typed-token").fields).toMatchObject({ url: "wss://relay.example.org", token: "typed-token", invite: null });
  });

  it("a damaged invite leaves no part of its token in any field, and says why on that field", () => {
    const cut = `https://relay.example.org/invite#${TOKEN.slice(0, 10)}`;
    const inAddress = enterAddress(empty, cut);
    expect(inAddress.fields.url).toBe("wss://relay.example.org");
    expect(inAddress.error).toMatch(/damaged/);
    expect(JSON.stringify(inAddress)).not.toContain(TOKEN.slice(0, 10));
    const inToken = enterToken(empty, cut);
    expect(inToken.fields.token).toBe("");
    expect(inToken.error).toMatch(/damaged/);
    expect(JSON.stringify(inToken)).not.toContain(TOKEN.slice(0, 10));
    // After a good invite, a damaged one pasted over it drops the good one's token too.
    expect(enterAddress(enterAddress(empty, invite).fields, "https://relay.example.org/invite").fields).toMatchObject({ token: "", invite: null });
  });

  it("sent whole to the host instead (a page that skipped the form), it is refused with a message that does not repeat it", () => {
    for (const request of [
      { method: "addRelay", name: "Team", url: invite, token: null },
      { method: "addRelay", name: "Team", url: "wss://relay.example.org", token: invite },
    ]) {
      const parsed = requestSchema.safeParse(request);
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error!.issues.map((i) => i.message))).not.toContain(TOKEN);
    }
  });
});
