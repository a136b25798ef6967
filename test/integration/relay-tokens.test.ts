// Tokens as a self-hoster manages them, through the relay's CLI and real relay
// processes: expiry, when each token was last used, and one-paste invites.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { eventually, PROJECT_ROOT, rawConnect, upgradeStatus, useRelays } from "../support/relay";
import { programArgs } from "../support/programs";
import { startPostgres } from "../support/postgres";

const { relay } = useRelays();
const exec = promisify(execFile);

/** Runs `relay token ...` as an operator would; resolves with what it printed. */
async function tokenCommand(...args: string[]): Promise<string> {
  const { stdout } = await exec(process.execPath, [...programArgs("relay"), "token", ...args], { cwd: PROJECT_ROOT });
  return stdout;
}
const tokenIn = (text: string) => /(?:^|[\s#])([A-Za-z0-9_-]{43})(?:\s|$)/m.exec(text)?.[1];

describe("relay tokens", () => {
  it("an expired token is refused, and its live connections are closed when it expires", async () => {
    const r = await relay();
    // Far enough ahead for the token command (a Node process) to start and write it on a
    // busy machine: at 4 s it once started after the time had passed, and refused it.
    const expiresAt = new Date(Date.now() + 10_000).toISOString();
    const token = tokenIn(await tokenCommand("add", "temp", "--expires", expiresAt, "--data", r.dataDir))!;
    // Joined, so that only the expiry can close it: a silent socket is closed by the join
    // timeout (10 s), which raced the expiry when the token command was quick.
    const connection = await rawConnect(r.url, token, { join: "temp-writer" });
    const closed = await connection.closed;
    expect(closed).toEqual({ code: 4001, reason: "token expired" });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${token}` })).toBe(401);
    // The relay's log line arrives through a pipe, a moment after the answer.
    await eventually(() => /"token":"temp"[^\n]*upgrade refused: token expired/.test(r.logs()), 5_000, 50);
    expect(await tokenCommand("list", "--data", r.dataDir)).toMatch(/temp\s+full\s+\S+ \S+\s+\S+ \S+ \(expired\)/);
  }, 30_000);

  it("token list says when each token was last used, kept across a restart", async () => {
    const r = await relay();
    const used = tokenIn(await tokenCommand("add", "used", "--data", r.dataDir))!;
    await tokenCommand("add", "unused", "--data", r.dataDir);
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${used}` })).toBe(101);
    // The relay writes it every minute and when it stops.
    expect(await r.stop()).toBe(0);
    const list = await tokenCommand("list", "--data", r.dataDir);
    const today = new Date().toISOString().slice(0, 10);
    expect(list).toMatch(new RegExp(`^used\\s+full\\s+${today} \\S+\\s+never\\s+${today} \\d\\d:\\d\\d$`, "m"));
    expect(list).toMatch(/^unused\s+full\s+\S+ \S+\s+never\s+never$/m);
  });

  it("token invite prints one link holding the address and the token; the link's page says what to do, and never sees the token", async () => {
    const r = await relay();
    const out = await tokenCommand("invite", "writer1", "--url", "wss://relay.example.org/team", "--data", r.dataDir);
    const link = /https:\/\/relay\.example\.org\/team\/invite#([A-Za-z0-9_-]{43})/.exec(out);
    expect(link).not.toBeNull();
    // The token in the link is a real one.
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${link![1]}` })).toBe(101);
    const page = await fetch(`${r.url.replace(/^ws/, "http")}/invite`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-store");
    const html = await page.text();
    expect(html).toContain("an invitation to a Writer relay");
    expect(html).toMatch(/<b>Settings<\/b>.*<b>Relays<\/b>, <b>Add a relay<\/b>.*Paste this whole link/s);
    expect(html).not.toContain("<script");
    // A relay address with a token or query in it is refused before a token is made.
    await expect(tokenCommand("invite", "writer2", "--url", "wss://relay.example.org/?token=x", "--data", r.dataDir)).rejects.toThrow(/without a query or token/);
    expect(await tokenCommand("list", "--data", r.dataDir)).not.toMatch(/writer2/);
  });

  it("--expires refuses nonsense and a day past, saying what it takes, and makes no token", async () => {
    const r = await relay();
    for (const [when, said] of [
      ["soon", /relay: --expires takes a duration \(90d, 12h, 2w\) or a date \(2027-03-31\): "soon"/],
      ["2027-02-30", /relay: --expires: there is no such day: "2027-02-30"/],
      ["2020-01-01", /relay: --expires: 2020-01-01T00:00:00.000Z has already passed/],
    ] as const) {
      const failed = await tokenCommand("add", "guest", "--expires", when, "--data", r.dataDir).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failed?.code, when).toBe(2);
      expect(failed?.stderr).toMatch(said);
    }
    expect(await tokenCommand("list", "--data", r.dataDir)).toBe("no tokens\n");
  });

  it("on PostgreSQL, last use is the database's, kept by token: a name revoked and reused starts again at never", async () => {
    const url = await (await startPostgres()).database();
    const r = await relay({ args: ["--storage", url] });
    const first = tokenIn(await tokenCommand("add", "carol", "--storage", url))!;
    expect(await upgradeStatus(r.url, { Authorization: `Bearer ${first}` })).toBe(101);
    expect(await r.stop()).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(await tokenCommand("list", "--storage", url)).toMatch(new RegExp(`^carol\\s+full\\s+\\S+ \\S+\\s+never\\s+${today} \\d\\d:\\d\\d$`, "m"));
    await tokenCommand("revoke", "carol", "--storage", url);
    await tokenCommand("add", "carol", "--storage", url);
    expect(await tokenCommand("list", "--storage", url)).toMatch(/^carol\s+full\s+\S+ \S+\s+never\s+never$/m);
  }, 90_000);
});
