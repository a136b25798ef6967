import { describe, expect, it } from "vitest";
import { safeHref } from "../../../src/shared/links";

describe("safeHref", () => {
  describe("allows links that cannot run code", () => {
    it.each([
      ["http://example.com", "http://example.com/"],
      ["https://example.com/whale?chapter=1#top", "https://example.com/whale?chapter=1#top"],
      ["HTTPS://EXAMPLE.COM/Path", "https://example.com/Path"],
      ["mailto:ishmael@pequod.org", "mailto:ishmael@pequod.org"],
      ["#chapter-1", "#chapter-1"],
      ["  https://example.com  ", "https://example.com/"],
    ])("%j → %j", (input, expected) => {
      expect(safeHref(input)).toBe(expected);
    });
  });

  it("upgrades a bare domain to https", () => {
    expect(safeHref("example.com")).toBe("https://example.com/");
    expect(safeHref("www.example.com/path?q=1")).toBe("https://www.example.com/path?q=1");
  });

  it("keeps a space inside a link as %20 instead of dropping it", () => {
    expect(safeHref("https://example.com/moby dick.pdf")).toBe("https://example.com/moby%20dick.pdf");
  });

  describe("refuses anything that could run code or is not a link", () => {
    it.each([
      ["javascript:", "javascript:alert(1)"],
      ["mixed-case javascript: after a space", " JaVaScRiPt:alert(1)"],
      ["a tab inside the scheme", "java\tscript:alert(1)"],
      ["a newline inside the scheme", "java\nscript:alert(1)"],
      ["a NUL before the scheme", "\u0000javascript:alert(1)"],
      ["data:", "data:text/html,<script>alert(1)</script>"],
      ["data: base64", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="],
      ["vbscript:", "vbscript:msgbox(1)"],
      ["file:", "file:///etc/passwd"],
      ["an empty string", ""],
      ["only whitespace", " \t\n "],
      ["a lone #", "#"],
      ["a scheme with no host", "https://"],
      ["words that are not a link", "click here"],
    ])("%s", (_name, input) => {
      expect(safeHref(input)).toBeNull();
    });
  });

  it("never returns an href whose scheme is not http, https or mailto", () => {
    const tricky = ["jav&#x09;ascript:alert(1)", "javascript&colon;alert(1)", "\u00a0javascript:alert(1)", "java\u0000script:alert(1)", "//evil.example/x", "javascript://%0aalert(1)"];
    for (const input of tricky) {
      const out = safeHref(input);
      if (out !== null) expect(out).toMatch(/^(https?:\/\/|mailto:|#)/);
    }
  });
});
