// F13: the relay's disk fills up while writers type. "On the relay" means on the relay's
// disk: a change the relay holds only in memory (its save failing, retried) is never
// confirmed to a writer; writers are told the relay cannot save; /healthz and /metrics
// say so; and a relay SIGKILLed then loses nothing a writer was told it had.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addToken, eventually, metric, useRelays } from "../support/relay";
import { converged, useHosts } from "../support/replicas";
import { smallDisk } from "../support/smallDisk";
import { pace } from "../support/wait";

const relays = useRelays();
const host = useHosts();

describe("the relay's disk", () => {
  it("F13: a full disk: nothing unsaved is confirmed, writers are told, and after a SIGKILL and a freed disk nothing is lost", async () => {
    const disk = smallDisk("4m");
    const dataDir = path.join(disk.dir, "relay");
    const token = await addToken(dataDir, "team");
    const first = await relays.relay({ dataDir });
    const ada = await host("ada");
    await ada.addRelay("Team", first.url, token);
    const url = await ada.createDocument("Written on a full disk");
    await ada.type(url, "Before the disk filled. ");
    await eventually(async () => (await ada.syncStatus(url)).document === "on-relay", 15_000, 50);
    const before = await ada.read(url);

    disk.fill();
    // Ada keeps typing; all along, the host never says "on the relay" for what she typed
    // since, and once the relay has noticed, it says why.
    const claimed: string[] = [];
    for (let i = 0; i < 30; i++) {
      await ada.type(url, `full${i} `);
      await pace(50);
      const status = await ada.syncStatus(url);
      if (status.document === "on-relay") claimed.push(`after full${i}: ${JSON.stringify(status)}`);
    }
    const told = await eventually(async () => {
      const status = await ada.syncStatus(url);
      return status.error?.message.includes("cannot save right now; your changes are kept here") ? status : undefined;
    }, 15_000);
    expect(told).toMatchObject({ connection: "connected", document: "pending", error: { message: "Team: cannot save right now; your changes are kept here" } });
    expect(claimed).toEqual([]);
    // The self-hoster's view: unhealthy, with the reason, and a gauge to alert on.
    const health = await fetch(`${first.url.replace(/^ws/, "http")}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reason: string }).reason).toMatch(/^cannot save to its disk/);
    expect(await metric(first.url, "relay_storage_failing")).toBe(1);

    // The relay dies with the disk still full; Ada's machine goes too.
    const typed = await ada.read(url);
    await first.kill();
    await ada.kill();
    disk.free();
    const second = await relays.relay({ dataDir, port: first.port });
    // What the relay has now is at least what Ada was told it had.
    const reader = relays.client(second.url, token);
    const onDisk = await converged(url, [], [reader], 30_000);
    expect(onDisk.text.startsWith(before.text)).toBe(true);

    // Ada comes back: her words, kept on her side, reach the relay; nothing is lost.
    const again = await host("ada", ada.dataDir);
    const end = await converged(url, [again], [relays.client(second.url, token)], 30_000);
    expect(end.text).toBe(typed.text);
    await eventually(async () => (await again.syncStatus(url)).document === "on-relay" && (await again.syncStatus(url)).error === null, 15_000, 100);
    expect(await metric(second.url, "relay_storage_failing")).toBe(0);
  });
});
