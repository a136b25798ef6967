// The relay's settings (sync-server/config.ts): every source, their order, and what a
// self-hoster is told when a setting is wrong.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSettings, SettingsError } from "../../sync-server/config";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "relay-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(name: string, content: string): string {
  const sub = path.join(dir, String(n++));
  fs.mkdirSync(sub);
  const p = path.join(sub, name);
  fs.writeFileSync(p, content);
  return p;
}
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  throw new Error("expected a SettingsError");
}

describe("relay settings", () => {
  it("takes defaults when nothing is set", () => {
    const s = resolveSettings({ flags: {}, env: {} });
    expect(s).toMatchObject({ port: 8787, host: "127.0.0.1", peers: [], allowAnonymous: false, trustProxy: false, logLevel: "info", maxConnections: 1000 });
    expect(s.data).toBeUndefined();
    expect(s.metricsToken).toBeUndefined();
  });

  it("reads a TOML file, and a flag beats its variable, which beats the file, which beats the default", () => {
    const config = file("relay.toml", 'port = 9000\nhost = "0.0.0.0"\nmax-connections = 50\nmax-held-bytes = 4096\ntrust-proxy = true\npeers = ["wss://b.example.org/"]\n');
    const s = resolveSettings({ flags: { port: 9100 }, env: { RELAY_PORT: "9200", RELAY_MAX_CONNECTIONS: "60" }, configFile: config });
    expect(s.port).toBe(9100); // flag
    expect(s.maxConnections).toBe(60); // environment over file
    expect(s.maxHeldBytes).toBe(4096); // file over default
    expect(s.host).toBe("0.0.0.0");
    expect(s.trustProxy).toBe(true);
    expect(s.peers).toEqual(["wss://b.example.org/"]);
    expect(s.maxMessageBytes).toBe(32 * 1024 * 1024); // default
  });

  it("reads a JSON file named by RELAY_CONFIG, with paths relative to the file", () => {
    const config = file("relay.json", JSON.stringify({ data: "state", "allow-anonymous": true }));
    const s = resolveSettings({ flags: {}, env: { RELAY_CONFIG: config } });
    expect(s.data).toBe(path.join(path.dirname(config), "state"));
    expect(s.allowAnonymous).toBe(true);
  });

  it("refuses an unknown key by its name, and says which key was probably meant", () => {
    const config = file("relay.toml", "port = 8787\nmax-conections = 10\n");
    const [problem] = problems(() => resolveSettings({ flags: {}, env: {}, configFile: config }));
    expect(problem).toContain('unknown key "max-conections"');
    expect(problem).toContain('did you mean "max-connections"?');
    expect(problem).toContain(config);
  });

  it("names the key and the expectation for a value of the wrong kind, every problem at once", () => {
    const config = file("relay.toml", 'port = "eighty"\nworkers = -1\nlog-level = "loud"\npeers = ["http://x"]\n');
    const found = problems(() => resolveSettings({ flags: {}, env: { RELAY_MAX_CONNECTIONS: "lots", RELAY_TRUST_PROXY: "maybe" }, configFile: config }));
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/relay\.toml: port: expected an integer >= 0/),
        expect.stringMatching(/relay\.toml: workers: expected an integer >= 0/),
        expect.stringMatching(/relay\.toml: log-level: expected one of fatal, error/),
        expect.stringMatching(/relay\.toml: peers\.0: expected ws:\/\/ or wss:\/\/ URLs/),
        'RELAY_MAX_CONNECTIONS="lots": expected an integer >= 1',
        'RELAY_TRUST_PROXY="maybe": expected true or false',
      ]),
    );
  });

  it("says plainly when the file cannot be read, is not TOML, or is neither .toml nor .json", () => {
    expect(problems(() => resolveSettings({ flags: {}, env: {}, configFile: path.join(dir, "missing.toml") }))[0]).toMatch(/missing\.toml: cannot read it \(ENOENT\)/);
    expect(problems(() => resolveSettings({ flags: {}, env: {}, configFile: file("relay.toml", "port = = 1") }))[0]).toMatch(/not valid TOML/);
    expect(problems(() => resolveSettings({ flags: {}, env: {}, configFile: file("relay.yaml", "port: 1") }))[0]).toMatch(/is \.toml or \.json/);
  });

  it("RELAY_ALLOW_ANONYMOUS=0 means off, as do empty variables", () => {
    expect(resolveSettings({ flags: {}, env: { RELAY_ALLOW_ANONYMOUS: "0" } }).allowAnonymous).toBe(false);
    expect(resolveSettings({ flags: {}, env: { RELAY_ALLOW_ANONYMOUS: "yes", RELAY_PORT: "" } })).toMatchObject({ allowAnonymous: true, port: 8787 });
  });

  it("reads secrets from files, or from systemd's credentials directory, never needing them on the command line", () => {
    const tokenFile = file("peer-token", "s3cret-peer-token\n");
    expect(resolveSettings({ flags: { peerTokenFile: tokenFile }, env: {} }).peerToken).toBe("s3cret-peer-token");
    const credentials = path.dirname(file("peer-token", "from-systemd\n"));
    fs.writeFileSync(path.join(credentials, "metrics-token"), "scrape-me\n");
    const s = resolveSettings({ flags: {}, env: { CREDENTIALS_DIRECTORY: credentials } });
    expect(s.peerToken).toBe("from-systemd");
    expect(s.metricsToken).toBe("scrape-me");
    // A file named explicitly wins over the credentials directory.
    expect(resolveSettings({ flags: {}, env: { CREDENTIALS_DIRECTORY: credentials, RELAY_PEER_TOKEN_FILE: tokenFile } }).peerToken).toBe("s3cret-peer-token");
  });

  it("refuses an unreadable or malformed secret file, and a token given twice", () => {
    expect(problems(() => resolveSettings({ flags: { peerTokenFile: path.join(dir, "nope") }, env: {} }))[0]).toMatch(/peer token file .*nope: cannot read it \(ENOENT\)/);
    expect(problems(() => resolveSettings({ flags: { metricsTokenFile: file("m", "two words\n") }, env: {} }))[0]).toMatch(/expected one token on one line/);
    const found = problems(() => resolveSettings({ flags: { peerToken: "a", peerTokenFile: file("t", "b") }, env: {} }));
    expect(found).toEqual(["--peer-token and --peer-token-file both given: use the file"]);
  });

  it("moves /metrics to its own address only with a port", () => {
    expect(problems(() => resolveSettings({ flags: { metricsHost: "10.0.0.5" }, env: {} }))[0]).toMatch(/--metrics-host needs --metrics-port/);
    expect(resolveSettings({ flags: {}, env: { RELAY_METRICS_PORT: "9100" } })).toMatchObject({ metricsPort: 9100 });
  });
});

describe("sync-server/deploy/relay.example.toml", () => {
  const example = path.resolve(import.meta.dirname, "../../sync-server/deploy/relay.example.toml");

  it("is valid as shipped, and with every commented setting switched on", async () => {
    const { SETTINGS, readConfigFile } = await import("../../sync-server/config");
    expect(readConfigFile(example)).toMatchObject({ port: 8787, host: "127.0.0.1", data: "/var/lib/writer-relay" });
    const all = fs.readFileSync(example, "utf8").replace(/^# ([a-z-]+ = )/gm, "$1");
    const everything = readConfigFile(file("relay.toml", all));
    // Every setting is shown, except the inline peer token: secrets go in files.
    const keys = SETTINGS.map((s) => s.key ?? s.flag).filter((k) => k !== "peer-token");
    expect(Object.keys(everything).sort()).toEqual(keys.sort());
  });
});
