// The relay's /metrics text (sync-server/metrics.ts): what a Prometheus server reads back
// is what the relay counted, whatever a label value holds.
import { describe, expect, it } from "vitest";
import { Metrics } from "../../sync-server/metrics";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a Prometheus text exposition (format 0.0.4), read as Prometheus reads
 * them: a label value is a double-quoted string in which `\\`, `\"` and `\n` are escapes
 * of a backslash, a double quote and a newline. Throws on anything else.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    let i = 0;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new SyntaxError(`no metric name: ${line}`);
    i = name.length;
    const labels: Record<string, string> = {};
    if (line[i] === "{") {
      i++;
      while (line[i] !== "}") {
        const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0];
        if (!label || line.slice(i + label.length, i + label.length + 2) !== '="') throw new SyntaxError(`bad label at ${i}: ${line}`);
        i += label.length + 2;
        let value = "";
        for (;;) {
          const c = line[i++];
          if (c === undefined) throw new SyntaxError(`unterminated label value: ${line}`);
          if (c === '"') break;
          if (c !== "\\") {
            value += c;
            continue;
          }
          const escaped = line[i++];
          if (escaped === "\\") value += "\\";
          else if (escaped === '"') value += '"';
          else if (escaped === "n") value += "\n";
          else throw new SyntaxError(`bad escape \\${escaped}: ${line}`);
        }
        labels[label] = value;
        if (line[i] === ",") i++;
        else if (line[i] !== "}") throw new SyntaxError(`expected , or } at ${i}: ${line}`);
      }
      i++;
    }
    if (line[i] !== " ") throw new SyntaxError(`expected a space before the value: ${line}`);
    samples.push({ name, labels, value: Number(line.slice(i + 1)) });
  }
  return samples;
}

describe("the relay's metrics", () => {
  it("escapes label values: a value with a double quote, a backslash and a newline reads back as it was", async () => {
    const metrics = new Metrics();
    const reason = 'say "hi"\\there\nnext line';
    metrics.inc("relay_rejected_connections_total", { reason }, 3);
    metrics.inc("relay_rejected_connections_total", { reason: "bad-token" });
    const { text, contentType } = await metrics.render();
    expect(contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    // One line per sample: the newline in the value did not break the line.
    const samples = parseExposition(text).filter((s) => s.name === "relay_rejected_connections_total");
    expect(samples).toEqual([
      { name: "relay_rejected_connections_total", labels: { reason }, value: 3 },
      { name: "relay_rejected_connections_total", labels: { reason: "bad-token" }, value: 1 },
    ]);
    expect(await metrics.get("relay_rejected_connections_total", { reason })).toBe(3);
  });

  it("renders its histograms with buckets from 1 ms to 10 s, and the process's default metrics", async () => {
    const metrics = new Metrics();
    metrics.observe("relay_save_seconds", 0.004);
    metrics.observe("relay_save_seconds", 20);
    const samples = parseExposition((await metrics.render()).text);
    const buckets = samples.filter((s) => s.name === "relay_save_seconds_bucket");
    expect(buckets[0]).toEqual({ name: "relay_save_seconds_bucket", labels: { le: "0.001" }, value: 0 });
    expect(buckets.find((b) => b.labels.le === "0.005")?.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === "10")?.value).toBe(1);
    expect(buckets.at(-1)).toEqual({ name: "relay_save_seconds_bucket", labels: { le: "+Inf" }, value: 2 });
    expect(samples.find((s) => s.name === "relay_save_seconds_count")?.value).toBe(2);
    expect(await metrics.get("relay_save_seconds")).toBe(2);
    const names = new Set(samples.map((s) => s.name));
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds", "nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes"]) {
      expect(names, name).toContain(name);
    }
  });

  it("keeps each instance's counts its own (several relays in one process)", async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.inc("relay_failed_saves_total");
    expect(await a.get("relay_failed_saves_total")).toBe(1);
    expect(await b.get("relay_failed_saves_total")).toBe(0);
    expect(parseExposition((await b.render()).text).find((s) => s.name === "relay_failed_saves_total")?.value).toBe(0);
  });
});
