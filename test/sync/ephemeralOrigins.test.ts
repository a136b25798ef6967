import { describe, expect, it } from "vitest";
import { EphemeralOrigins } from "../../src/node/sync/ephemeralOrigins";

describe("EphemeralOrigins", () => {
  it("keeps the first way an author's messages came by, whatever echoes later", () => {
    const origins = new EphemeralOrigins<number>();
    origins.note("ada", 1);
    origins.note("ada", 2);
    expect(origins.originOf("ada")).toBe(1);
    expect(origins.originOf("bob")).toBeUndefined();
  });

  it("forgets the authors of a closed connection, so another can be theirs", () => {
    const origins = new EphemeralOrigins<number>();
    origins.note("ada", 1);
    origins.note("bob", 2);
    origins.forget(1);
    expect(origins.originOf("ada")).toBeUndefined();
    expect(origins.originOf("bob")).toBe(2);
    origins.note("ada", 3);
    expect(origins.originOf("ada")).toBe(3);
  });

  it("stays bounded, forgetting the oldest first", () => {
    const origins = new EphemeralOrigins<number>(3);
    for (const [i, author] of ["a", "b", "c", "d"].entries()) origins.note(author, i);
    expect(origins.size).toBe(3);
    expect(origins.originOf("a")).toBeUndefined();
    expect(origins.originOf("d")).toBe(3);
  });
});
