// Editing traces for the benchmarks (test/fixtures/traces, CC BY 4.0: keep the attribution
// of test/fixtures/traces/README.md wherever figures derived from them are published).
import fs from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";

export const PAPER_TRACE = path.join(import.meta.dirname, "../../test/fixtures/traces/automerge-paper.json.gz");
export const TRACE_ATTRIBUTION = "trace: automerge-paper from josephg/editing-traces, CC BY 4.0 (test/fixtures/traces/README.md)";

/** One keystroke of a sequential trace: at `pos` of the text, delete `del`, insert `ins`. */
export interface Edit {
  pos: number;
  del: number;
  ins: string;
}

/** The first `limit` edits of a sequential trace, and the text they make. */
export function loadTrace(file: string = PAPER_TRACE, limit = Infinity): { edits: Edit[]; total: number; text: string } {
  const trace = JSON.parse(gunzipSync(fs.readFileSync(file)).toString("utf8")) as { txns: { patches: [number, number, string][] }[] };
  const edits: Edit[] = [];
  let total = 0;
  let text = "";
  for (const t of trace.txns) {
    for (const [pos, del, ins] of t.patches) {
      total++;
      if (edits.length >= limit) continue;
      edits.push({ pos, del, ins });
      text = text.slice(0, pos) + ins + text.slice(pos + del);
    }
  }
  return { edits, total, text };
}

/**
 * When each edit is typed on the writer's clock, as bench/long-document models it: 170 ms
 * between keystrokes (about 60 words a minute) and a 2 s pause whenever the next keystroke
 * is not where the caret was (the writer moved it). The trace's own timestamps are unusable
 * (the paper's 259,778 keystrokes span 0.3 s).
 */
export function writerSchedule(edits: Edit[], keyIntervalMs = 170, jumpPauseMs = 2000): number[] {
  const at: number[] = [];
  let clock = 0;
  let caret = -1;
  for (const e of edits) {
    const onward = e.pos === caret || (e.del > 0 && e.ins === "" && e.pos + e.del === caret);
    clock += onward ? keyIntervalMs : jumpPauseMs;
    at.push(clock);
    caret = e.pos + e.ins.length;
  }
  return at;
}

/**
 * Timers on a virtual clock, for the editor's grouping (writerSyncPlugin's `Grouping`):
 * it sees the writer's pauses while the bench replays as fast as it can.
 */
export class VirtualClock {
  t = 0;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #ids = 0;
  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): number => {
    this.#timers.push({ at: this.t + ms, fn, id: ++this.#ids });
    return this.#ids;
  };
  clearTimer = (id: unknown): void => {
    this.#timers = this.#timers.filter((x) => x.id !== id);
  };
  advanceTo(t: number): void {
    for (;;) {
      let due: { at: number; fn: () => void; id: number } | undefined;
      for (const x of this.#timers) if (x.at <= t && (!due || x.at < due.at)) due = x;
      if (!due) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = Math.max(this.t, t);
  }
}
