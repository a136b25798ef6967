// The relay's configuration through its real CLI process: a configuration file beside
// flags and variables, secrets from files (never in the process list), and client
// addresses behind a reverse proxy (--trust-proxy).
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addToken, eventually, metric, rawConnect, startRelay, tempDir, upgradeStatus, useRelays } from "../support/relay";

const { relay } = useRelays();

describe("relay configuration", () => {
  it("takes settings from --config, under its environment variables and flags", async () => {
    const dir = tempDir();
    const config = path.join(dir, "relay.toml");
    fs.writeFileSync(config, "# a self-hoster's file\nmax-message-bytes = 2048\n");
    const fromFile = await relay({ args: ["--config", config] });
    const token = await addToken(fromFile.dataDir, "alice");
    const small = await rawConnect(fromFile.url, token);
    small.send(new Uint8Array(10_000));
    expect((await small.closed).code).toBe(1009);

    // The variable beats the file: the frame is accepted, then refused as not CBOR.
    const envWins = await relay({ env: { RELAY_CONFIG: config, RELAY_MAX_MESSAGE_BYTES: "65536" } });
    const token2 = await addToken(envWins.dataDir, "alice");
    const big = await rawConnect(envWins.url, token2);
    big.send(new Uint8Array(10_000));
    expect((await big.closed).code).toBe(4002);
  });

  it("refuses to start on an unknown key, naming it", async () => {
    const config = path.join(tempDir(), "relay.json");
    fs.writeFileSync(config, JSON.stringify({ "max-conections": 10 }));
    const started = startRelay({ args: ["--config", config] });
    await expect(started).rejects.toThrow(/exited with 2 before listening:[\s\S]*unknown key "max-conections" \(did you mean "max-connections"\?\)/);
  });

  it("refuses to start, saying why, when its data directory cannot be made: a file in the way, a file in its path, a place no directory can be", async () => {
    const file = path.join(tempDir(), "not-a-directory");
    fs.writeFileSync(file, "");
    for (const [dataDir, problem] of [
      [file, "it is a file, not a directory \\(EEXIST\\)"],
      [path.join(file, "relay"), "a part of its path is a file, not a directory \\(ENOTDIR\\)"],
      // Where the kernel refuses any new directory (Node's own recursive mkdir hangs there).
      ["/proc/writer-relay-data", "a part of its path cannot be created there \\(ENOENT\\)"],
    ] as const) {
      const started = startRelay({ dataDir });
      await expect(started).rejects.toThrow(new RegExp(`exited with 3 before listening:[\\s\\S]*Cannot use the data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: ${problem}`));
      // Said in words, not a stack trace.
      await expect(started).rejects.not.toThrow(/\n\s+at /);
    }
  });

  it("takes the peer token from a file: peering works and the token is not in the process list", async () => {
    const b = await relay();
    const peerToken = await addToken(b.dataDir, "relay-a", { relay: true });
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "peer-token"), `${peerToken}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, "relay.toml"), `peers = ["${b.url}/"]\npeer-token-file = "peer-token"\n`);
    const a = await relay({ args: ["--config", path.join(dir, "relay.toml")] });
    await eventually(async () => (await metric(a.url, "relay_peers_connected")) === 1, 15_000, 100);
    const commandLine = fs.readFileSync(`/proc/${a.pid}/cmdline`, "utf8");
    expect(commandLine).toContain("relay.toml");
    expect(commandLine).not.toContain(peerToken);
    expect(fs.readFileSync(`/proc/${a.pid}/environ`, "utf8")).not.toContain(peerToken);
  });

  it("serves /metrics on its own port, to the holder of the token in --metrics-token-file only", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "metrics-token"), "scrape-token-1234\n", { mode: 0o600 });
    const r = await relay({ args: ["--metrics-port", "0", "--metrics-token-file", path.join(dir, "metrics-token")] });
    // On the line that says the relay listens (and on one of its own after it).
    const metricsUrl = /"metricsUrl":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(r.logs())?.[1];
    expect(metricsUrl).toBeDefined();
    expect((await fetch(`${r.url.replace(/^ws/, "http")}/metrics`)).status).toBe(404);
    expect((await fetch(metricsUrl!)).status).toBe(401);
    expect((await fetch(metricsUrl!, { headers: { Authorization: "Bearer wrong-token-123" } })).status).toBe(401);
    const scraped = await fetch(metricsUrl!, { headers: { Authorization: "Bearer scrape-token-1234" } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain("# TYPE relay_connections gauge");
    expect(fs.readFileSync(`/proc/${r.pid}/cmdline`, "utf8")).not.toContain("scrape-token-1234");
  });

  it("with --trust-proxy, logs and limits use the address the proxy saw, not the proxy's", async () => {
    const direct = await relay();
    expect(await upgradeStatus(direct.url, { Authorization: "Bearer made-up-token-made-up-token-made-up-tok", "X-Forwarded-For": "203.0.113.7" })).toBe(401);
    await eventually(() => direct.logs().includes("upgrade refused: unknown or revoked token"), 5_000, 50);
    // Not behind a proxy: the header is anyone's to write, and is ignored.
    expect(direct.logs()).not.toContain("203.0.113.7");

    const proxied = await relay({ args: ["--trust-proxy"] });
    const alice = await addToken(proxied.dataDir, "alice");
    const bad = (from: string) => upgradeStatus(proxied.url, { Authorization: "Bearer made-up-token-made-up-token-made-up-tok", "X-Forwarded-For": from });
    // The last entry is the one the relay's own proxy appended; the first is the client's claim.
    expect(await bad("10.9.9.9, 203.0.113.7")).toBe(401);
    await eventually(() => /"remoteAddress":"203\.0\.113\.7"[^\n]*unknown or revoked token/.test(proxied.logs()), 5_000, 50);
    expect(proxied.logs()).not.toContain("10.9.9.9");
    // Ten unknown tokens a minute from one address; then its unknown tokens are refused unread...
    for (let i = 0; i < 9; i++) expect(await bad("203.0.113.7")).toBe(401);
    expect(await bad("203.0.113.7")).toBe(429);
    expect(await metric(proxied.url, "relay_rejected_connections_total", '{reason="failed-attempts"}')).toBe(1);
    // ...while another address behind the same proxy is its own bucket, and a known token
    // from the same address still gets in.
    expect(await bad("198.51.100.2")).toBe(401);
    expect(await upgradeStatus(proxied.url, { Authorization: `Bearer ${alice}`, "X-Forwarded-For": "203.0.113.7" })).toBe(101);
    await eventually(() => /"remoteAddress":"203\.0\.113\.7"[^\n]*connection open/.test(proxied.logs()), 5_000, 50);
  });
});

