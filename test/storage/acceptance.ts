import { Repo, type StorageAdapterInterface, type StorageKey } from "@automerge/automerge-repo";
import { runStorageAdapterTests } from "@automerge/automerge-repo/helpers/tests/storage-adapter-tests.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidStorageKeyError } from "../../src/node/storage/errors";

/** Creates a fresh, empty adapter for one test, and what undoes it. */
export type StorageSetup = () => Promise<{ adapter: StorageAdapterInterface; teardown: () => Promise<void> }>;

/**
 * The contract every Writer storage adapter keeps, whatever it stores on (files today,
 * PostgreSQL for relay clusters later): automerge-repo's own adapter suite, then ours.
 * Nothing here may assume files; file-specific behaviour is tested beside the adapter.
 */
export function runStorageAcceptanceTests(name: string, setup: StorageSetup): void {
  describe(`${name}: storage acceptance`, () => {
    describe("automerge-repo adapter suite", () => {
      runStorageAdapterTests(setup, name);
    });

    describe("Writer adapter suite", () => {
      let adapter: StorageAdapterInterface;
      let teardown: () => Promise<void>;
      beforeEach(async () => {
        ({ adapter, teardown } = await setup());
      });
      afterEach(async () => {
        await teardown();
      });

      describe("binary round trip", () => {
        it("keeps every byte value", async () => {
          const data = Uint8Array.from({ length: 256 }, (_, i) => i);
          await adapter.save(["AAAAA", "snapshot", "bytes"], data);
          expect(await adapter.load(["AAAAA", "snapshot", "bytes"])).toStrictEqual(data);
        });

        it("keeps an empty payload as empty, not missing", async () => {
          await adapter.save(["AAAAA", "snapshot", "empty"], new Uint8Array(0));
          expect(await adapter.load(["AAAAA", "snapshot", "empty"])).toStrictEqual(new Uint8Array(0));
          expect(await adapter.loadRange(["AAAAA"])).toStrictEqual([
            { key: ["AAAAA", "snapshot", "empty"], data: new Uint8Array(0) },
          ]);
        });

        it("keeps a 5 MB payload", async () => {
          const data = pseudoRandomBytes(5 * 1024 * 1024, 1);
          await adapter.save(["AAAAA", "snapshot", "large"], data);
          const loaded = await adapter.load(["AAAAA", "snapshot", "large"]);
          expect(loaded).toBeInstanceOf(Uint8Array);
          expect(sameBytes(loaded, data)).toBe(true);
          const [chunk, ...others] = await adapter.loadRange(["AAAAA", "snapshot"]);
          expect(others).toHaveLength(0);
          expect(sameBytes(chunk?.data, data)).toBe(true);
        });

        it("stores a copy: changing the saved array afterwards changes nothing", async () => {
          const data = Uint8Array.from([1, 2, 3]);
          await adapter.save(["AAAAA", "snapshot", "copy"], data);
          data[0] = 99;
          expect(await adapter.load(["AAAAA", "snapshot", "copy"])).toStrictEqual(Uint8Array.from([1, 2, 3]));
        });
      });

      describe("overwrite and remove", () => {
        it("overwrites a key with the newer value", async () => {
          await adapter.save(["AAAAA", "sync-state", "peer"], Uint8Array.from([1]));
          await adapter.save(["AAAAA", "sync-state", "peer"], Uint8Array.from([2, 2]));
          expect(await adapter.load(["AAAAA", "sync-state", "peer"])).toStrictEqual(Uint8Array.from([2, 2]));
          expect(await adapter.loadRange(["AAAAA"])).toStrictEqual([
            { key: ["AAAAA", "sync-state", "peer"], data: Uint8Array.from([2, 2]) },
          ]);
        });

        it("removes a missing key without complaint", async () => {
          await expect(adapter.remove(["AAAAA", "snapshot", "never-saved"])).resolves.toBeUndefined();
          await expect(adapter.removeRange(["never-saved"])).resolves.toBeUndefined();
        });
      });

      describe("key prefixes", () => {
        const keys: StorageKey[] = [["a"], ["ab"], ["a", "b"], ["a", "bc"], ["a", "b", "c"]];
        beforeEach(async () => {
          for (const [i, key] of keys.entries()) await adapter.save(key, Uint8Array.from([i]));
        });

        it("match whole parts: ['a'] is no prefix of ['ab']", async () => {
          expect(keysOf(await adapter.loadRange(["a"]))).toEqual(["a", "a/b", "a/b/c", "a/bc"]);
          expect(keysOf(await adapter.loadRange(["a", "b"]))).toEqual(["a/b", "a/b/c"]);
          expect(keysOf(await adapter.loadRange(["ab"]))).toEqual(["ab"]);
          expect(keysOf(await adapter.loadRange(["a", "b", "c", "d"]))).toEqual([]);
          expect(keysOf(await adapter.loadRange([]))).toEqual(["a", "a/b", "a/b/c", "a/bc", "ab"]);
        });

        it("remove whole parts only", async () => {
          await adapter.removeRange(["a", "b"]);
          expect(keysOf(await adapter.loadRange([]))).toEqual(["a", "a/bc", "ab"]);
          await adapter.removeRange(["a"]);
          expect(keysOf(await adapter.loadRange([]))).toEqual(["ab"]);
          expect(await adapter.load(["ab"])).toStrictEqual(Uint8Array.from([1]));
        });
      });

      describe("invalid keys", () => {
        it.each(INVALID_KEYS)("rejects %s and stores nothing", async (_label, key) => {
          const bad = key as StorageKey;
          const data = Uint8Array.from([6, 6, 6]);
          await expect(adapter.save(bad, data)).rejects.toBeInstanceOf(InvalidStorageKeyError);
          await expect(adapter.load(bad)).rejects.toBeInstanceOf(InvalidStorageKeyError);
          await expect(adapter.remove(bad)).rejects.toBeInstanceOf(InvalidStorageKeyError);
          if (Array.isArray(key) && key.length === 0) {
            // The empty prefix is valid for ranges: it means "everything".
          } else {
            await expect(adapter.loadRange(bad)).rejects.toBeInstanceOf(InvalidStorageKeyError);
            await expect(adapter.removeRange(bad)).rejects.toBeInstanceOf(InvalidStorageKeyError);
          }
          expect(await adapter.loadRange([])).toEqual([]);
          expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("polluted");
        });

        it("names the refused key in the error", async () => {
          const error = await adapter.save(["../../x"], Uint8Array.from([1])).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidStorageKeyError);
          expect((error as InvalidStorageKeyError).key).toEqual(["../../x"]);
        });
      });

      describe("concurrency", () => {
        it("ends concurrent saves of one key with one of the values intact", async () => {
          const key = ["CCCCC", "snapshot", "race"];
          const values = Array.from({ length: 20 }, (_, i) => pseudoRandomBytes(64 * 1024 + i, i + 10));
          const reads: Promise<Uint8Array | undefined>[] = [];
          await Promise.all(
            values.map((value) => {
              reads.push(adapter.load(key));
              return adapter.save(key, value);
            }),
          );
          const final = await adapter.load(key);
          expect(values.some((value) => sameBytes(final, value))).toBe(true);
          // A read during the race sees nothing yet or one whole value, never a mix.
          for (const read of await Promise.all(reads)) {
            expect(read === undefined || values.some((value) => sameBytes(read, value))).toBe(true);
          }
          expect(await adapter.loadRange(["CCCCC"])).toHaveLength(1);
        });
      });

      describe("with automerge-repo", () => {
        it("persists a document that a second Repo on the same storage reads back", async () => {
          interface Draft {
            title: string;
            words: string[];
          }
          const first = new Repo({ storage: adapter, network: [], saveDebounceRate: 10 });
          const handle = first.create<Draft>({ title: "Chapter 1", words: [] });
          handle.change((draft) => {
            draft.words.push("It", "was", "a", "dark");
          });
          handle.change((draft) => {
            draft.title = "Chapter One";
          });
          await first.flush();
          await first.shutdown();

          const second = new Repo({ storage: adapter, network: [] });
          const found = await second.find<Draft>(handle.url);
          expect(found.doc()).toEqual({ title: "Chapter One", words: ["It", "was", "a", "dark"] });
          await second.shutdown();
        });
      });
    });
  });
}

/** Keys that must never reach storage (S7), each with a label for the test name. */
const INVALID_KEYS: [string, unknown][] = [
  ["a relative escape '../../x'", ["../../x"]],
  ["'..'", [".."]],
  ["'.'", ["."]],
  ["'..' in a later part", ["AAAAA", "..", "..", "x"]],
  ["'__proto__'", ["__proto__"]],
  ["'__proto__' in a later part", ["AAAAA", "__proto__", "polluted"]],
  ["'constructor'", ["constructor"]],
  ["'prototype'", ["AAAAA", "prototype"]],
  ["a slash 'a/b'", ["a/b"]],
  ["a backslash 'a\\b'", ["a\\b"]],
  ["an absolute path", ["/etc/passwd"]],
  ["a NUL byte", ["a\0b"]],
  ["a 10,000-character part", ["x".repeat(10_000)]],
  ["an empty part", [""]],
  ["a number part", [42]],
  ["a null part", [null]],
  ["an undefined part", [undefined]],
  ["an object part", [{ toString: () => "AAAAA" }]],
  ["an array part", [["AAAAA"]]],
  ["nine parts", Array.from({ length: 9 }, () => "a")],
  ["an empty key", []],
  ["a string instead of an array", "AAAAA"],
  ["null instead of an array", null],
];

/** Keys of chunks as sorted "a/b/c" strings, for order-free comparison. */
function keysOf(chunks: { key: StorageKey }[]): string[] {
  return chunks.map((chunk) => chunk.key.join("/")).sort();
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(toBuffer(a), toBuffer(b)) === 0;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Deterministic bytes (xorshift32), so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}
