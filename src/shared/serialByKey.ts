/**
 * Runs tasks one after the other for each key (a file, a document), in the order they
 * were given, and those of different keys side by side. A task starts once every
 * earlier task of its key has settled; one that fails fails only its own caller.
 */
export class SerialByKey {
  /** The last task given for each key, settled either way; a key is dropped once idle. */
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Settles once every task given so far has. */
  async idle(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
