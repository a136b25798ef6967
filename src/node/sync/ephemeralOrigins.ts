/**
 * Where each author's ephemeral messages come from, so that they are not sent back there.
 *
 * automerge-repo forwards an ephemeral message (a broadcast keystroke, presence) to every
 * peer on its document except its author: a host hands a relay's message back to the
 * relay, and a relay hands a host's message back to that host. The receiving Repo drops
 * these echoes (it has seen the message's count), but only after the socket, the frame
 * and the CBOR: a second message per writer for every keystroke of every other writer.
 *
 * The first way an author's messages arrived by is theirs: an echo later arriving by
 * another way does not move it. Bounded: past `limit` authors, the oldest are forgotten
 * (an echo of a forgotten author is only sent, and dropped at the other end).
 */
export class EphemeralOrigins<Origin> {
  readonly #origins = new Map<string, Origin>();
  readonly #limit: number;

  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /** Records that `author`'s messages come from `origin`, unless they came another way first. */
  note(author: string, origin: Origin): void {
    if (this.#origins.has(author)) return;
    if (this.#origins.size >= this.#limit) this.#origins.delete(this.#origins.keys().next().value!);
    this.#origins.set(author, origin);
  }

  originOf(author: string): Origin | undefined {
    return this.#origins.get(author);
  }

  /** Forgets every author that came from `origin` (a connection that closed). */
  forget(origin: Origin): void {
    for (const [author, o] of this.#origins) if (o === origin) this.#origins.delete(author);
  }

  get size(): number {
    return this.#origins.size;
  }
}
