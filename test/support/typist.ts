// A scripted writer for crash tests: types numbered words into a host process and
// remembers when the host acknowledged each one, so that after a crash a test can tell
// which words the host had had time to save.
import type { HostProcess } from "./host";
import { pace } from "./wait";

/** One word the host acknowledged: the change was made in its Repo by `ackedAt`. */
export interface TypedWord {
  text: string;
  ackedAt: number;
}

export class Typist {
  readonly words: TypedWord[] = [];
  readonly #host: HostProcess;
  readonly #url: string;
  readonly #tag: string;
  #stopped = false;
  #done: Promise<void> | undefined;

  /** Words look like `<tag>w<n> `, so that every word of every round is unique. */
  constructor(host: HostProcess, url: string, tag: string) {
    this.#host = host;
    this.#url = url;
    this.#tag = tag;
  }

  /**
   * Types a word every `everyMs` until stopped or the host dies (a SIGKILL ends the
   * loop quietly: the word in flight is simply not counted as acknowledged).
   */
  start(everyMs = 10): void {
    this.#done = (async () => {
      for (let i = 0; !this.#stopped && !this.#host.killed; i++) {
        const text = `${this.#tag}w${i} `;
        try {
          await this.#host.type(this.#url, text);
        } catch (error) {
          // The word in flight when the test killed the host (its pipe may break before it exits).
          if (!this.#host.killed) throw error;
          return;
        }
        this.words.push({ text, ackedAt: Date.now() });
        await pace(everyMs);
      }
    })();
  }

  /** Stops typing and waits for the word in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  /** The words acknowledged at least `ageMs` before `at`. */
  olderThan(at: number, ageMs: number): number {
    return this.words.filter((w) => w.ackedAt <= at - ageMs).length;
  }
}

/**
 * How many of `words` `text` holds after `base`, checking that it holds exactly a
 * prefix of them (nothing reordered, duplicated or torn); throws otherwise.
 */
export function survivingWords(text: string, base: string, words: readonly { text: string }[]): number {
  if (!text.startsWith(base)) throw new Error(`the text lost what it had before the round: ${JSON.stringify(text.slice(0, 200))}`);
  let at = base.length;
  let n = 0;
  while (n < words.length && text.startsWith(words[n]!.text, at)) at += words[n++]!.text.length;
  if (at !== text.length) throw new Error(`after ${n} intact words the text goes on with ${JSON.stringify(text.slice(at, at + 80))}`);
  return n;
}
