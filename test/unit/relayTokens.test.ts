// The relay's token file (sync-server/tokens.ts) on a real disk: expiry, its format
// across releases, and when each token was last used.
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isExpired, parseExpiry, TokenStore, TokenWatch } from "../../sync-server/tokens";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "relay-tokens-"));
  dirs.push(dir);
  return dir;
}
const readJson = async (file: string) => JSON.parse(await fs.readFile(file, "utf8")) as Record<string, unknown>;

describe("--expires", () => {
  const now = new Date("2026-01-01T00:00:00Z");

  it("takes hours, days and weeks from now, a date (its start, UTC) or an ISO time", () => {
    expect(parseExpiry("12h", now).toISOString()).toBe("2026-01-01T12:00:00.000Z");
    expect(parseExpiry("90d", now).toISOString()).toBe("2026-04-01T00:00:00.000Z");
    expect(parseExpiry("2w", now).toISOString()).toBe("2026-01-15T00:00:00.000Z");
    expect(parseExpiry(" 7D ", now).toISOString()).toBe("2026-01-08T00:00:00.000Z");
    expect(parseExpiry("2027-03-31", now).toISOString()).toBe("2027-03-31T00:00:00.000Z");
    expect(parseExpiry("2027-03-31T12:30:00Z", now).toISOString()).toBe("2027-03-31T12:30:00.000Z");
    expect(parseExpiry("2027-03-31T12:30:00+02:00", now).toISOString()).toBe("2027-03-31T10:30:00.000Z");
  });

  it("refuses anything else, a day the calendar lacks and a time already past, saying why", () => {
    for (const nonsense of ["soon", "1y", "-1d", "1.5d", "d", "", "31/03/2027", "2027-3-31"]) {
      expect(() => parseExpiry(nonsense, now), nonsense).toThrow(/--expires takes a duration \(90d, 12h, 2w\) or a date \(2027-03-31\)/);
    }
    expect(() => parseExpiry("2027-02-30", now)).toThrow(/no such day/);
    expect(() => parseExpiry("2027-13-01", now)).toThrow(/no such day/);
    expect(() => parseExpiry("2025-12-31", now)).toThrow(/2025-12-31T00:00:00.000Z has already passed/);
    expect(() => parseExpiry("0h", now)).toThrow(/has already passed/);
  });
});

describe("tokens.json", () => {
  it("a file of an earlier release, without expiry, still loads, and stays version 1 until a token expires", async () => {
    const dir = await dataDir();
    const earlier = { version: 1, tokens: [{ name: "alice", hash: "a".repeat(64), access: "full", createdAt: "2025-06-01T10:00:00.000Z" }] };
    await fs.writeFile(path.join(dir, "tokens.json"), JSON.stringify(earlier));
    const store = new TokenStore(dir);
    expect(await store.list()).toEqual(earlier.tokens);
    await store.add("bob", "read-only");
    expect((await readJson(store.file)).version).toBe(1);
    expect((await store.list()).map((t) => [t.name, t.expiresAt])).toEqual([
      ["alice", undefined],
      ["bob", undefined],
    ]);
  });

  it("with an expiring token the file is version 2, which an earlier release refuses rather than letting the token in forever", async () => {
    const dir = await dataDir();
    const store = new TokenStore(dir);
    const expiresAt = new Date(Date.now() + 3_600_000);
    await store.add("guest", "full", expiresAt);
    const file = await readJson(store.file);
    expect(file.version).toBe(2);
    const [guest] = await store.list();
    expect(guest).toMatchObject({ name: "guest", expiresAt: expiresAt.toISOString() });
    expect(isExpired(guest!)).toBe(false);
    expect(isExpired(guest!, expiresAt.getTime())).toBe(true);
    // Revoked, no token expires any more: version 1 again.
    await store.revoke("guest");
    expect((await readJson(store.file)).version).toBe(1);
  });

  it("a file of a version it does not know is refused", async () => {
    const dir = await dataDir();
    await fs.writeFile(path.join(dir, "tokens.json"), JSON.stringify({ version: 3, tokens: [] }));
    await expect(new TokenStore(dir).list()).rejects.toThrow(/is not a token file of this relay/);
  });
});

describe("last use", () => {
  it("is written to tokens-used.json, never to tokens.json, read after a restart, and starts again at never for a name reused", async () => {
    const dir = await dataDir();
    const store = new TokenStore(dir);
    const alice = await store.add("alice", "full");
    await store.add("bob", "full");
    const watch = new TokenWatch(store);
    await watch.open();
    const tokensBefore = await fs.readFile(store.file, "utf8");
    const before = new Date().toISOString();
    watch.used(watch.find(alice)!);
    expect(await store.lastUsed()).toEqual({});
    await watch.close();
    expect(await fs.readFile(store.file, "utf8")).toBe(tokensBefore);

    // Another process (token list, after a restart) reads it.
    const used = await new TokenStore(dir).lastUsed();
    expect(Object.keys(used)).toEqual(["alice"]);
    expect(used.alice! >= before).toBe(true);
    expect(JSON.stringify(await readJson(path.join(dir, "tokens-used.json")))).not.toContain("alice");

    // alice's token leaked: revoked, and a new one under the same name was never used.
    await store.revoke("alice");
    await store.add("alice", "full");
    expect(await store.lastUsed()).toEqual({});

    // The next write forgets the revoked token's entry.
    const again = new TokenWatch(store);
    await again.open();
    const bob = again.records.find((r) => r.name === "bob")!;
    again.used(bob);
    await again.flushUse();
    const file = (await readJson(path.join(dir, "tokens-used.json"))) as { byHash: Record<string, string> };
    expect(Object.keys(file.byHash)).toEqual([bob.hash]);
  });
});
