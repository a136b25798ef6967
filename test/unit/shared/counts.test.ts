import { describe, expect, it } from "vitest";
import { countText } from "../../../src/shared/counts";

describe("countText", () => {
  it("counts nothing in an empty text", () => {
    expect(countText("")).toEqual({ words: 0, characters: 0 });
    expect(countText("\n\n")).toEqual({ words: 0, characters: 0 });
  });

  it("counts words and characters of a plain sentence", () => {
    expect(countText("Call me Ishmael.")).toEqual({ words: 3, characters: 16 });
  });

  it("keeps inner apostrophes and hyphens inside one word", () => {
    expect(countText("don't").words).toBe(1);
    expect(countText("it’s a well-known fact")).toEqual({ words: 4, characters: 22 });
    expect(countText("rock 'n' roll").words).toBe(3);
  });

  it("does not count punctuation and dashes as words", () => {
    expect(countText("— - -- ' … !").words).toBe(0);
    expect(countText("never mind—how long").words).toBe(4);
  });

  it("counts letters of every script", () => {
    expect(countText("naïve café Ωμέγα 東京 Москва")).toEqual({ words: 5, characters: 26 });
  });

  it("counts an emoji as one character, however many code points it takes", () => {
    expect(countText("😀").characters).toBe(1);
    expect(countText("👍🏽").characters).toBe(1); // with a skin tone
    expect(countText("👨‍👩‍👧").characters).toBe(1); // joined with ZWJ
    expect(countText("🇫🇷").characters).toBe(1); // a flag is two regional indicators
    expect(countText("❤️").characters).toBe(1); // with a variation selector
    expect(countText("I ❤️ 🇫🇷")).toEqual({ words: 1, characters: 5 });
  });

  it("does not count an emoji as a word", () => {
    expect(countText("I ❤️ you 👍🏽 🇫🇷 👨‍👩‍👧").words).toBe(2);
  });

  it("counts a letter with a combining accent as one character", () => {
    expect(countText("cafe\u0301")).toEqual({ words: 1, characters: 4 });
    expect(countText("cafe\u0301")).toEqual(countText("café"));
  });

  it("does not count line breaks", () => {
    expect(countText("one\ntwo")).toEqual({ words: 2, characters: 6 });
    expect(countText("one\r\ntwo")).toEqual({ words: 2, characters: 6 });
    expect(countText("one\n\n\ntwo\n")).toEqual({ words: 2, characters: 6 });
  });

  it("counts spaces and tabs as characters", () => {
    expect(countText("a b\tc").characters).toBe(5);
  });

  it("counts a long text quickly", () => {
    const text = "Call me Ishmael. Some years ago—never mind how long precisely—naïve café 😀 👨‍👩‍👧.\n".repeat(2000);
    const started = performance.now();
    const counts = countText(text);
    expect(counts).toEqual({ words: 13 * 2000, characters: 77 * 2000 });
    expect(performance.now() - started).toBeLessThan(500);
  });
});
