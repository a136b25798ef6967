import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { generateAutomergeUrl, isValidAutomergeUrl } from "@automerge/automerge-repo";
import { deepLinkInArgs, parseDeepLink } from "../../../src/main/deepLink";

/** Links writer://open/<document link> from the system, checked before anything loads. */
describe("writer:// links", () => {
  const doc = generateAutomergeUrl();

  it("opens the document a well-formed link names, written plainly or encoded", () => {
    expect(parseDeepLink(`writer://open/${doc}`)).toEqual({ open: doc });
    expect(parseDeepLink(`writer://open/${encodeURIComponent(doc)}`)).toEqual({ open: doc });
    expect(parseDeepLink(`WRITER://OPEN/${doc}`)).toEqual({ open: doc });
  });

  it("refuses, in words, anything else", () => {
    const refused = (raw: string) => {
      const result = parseDeepLink(raw);
      expect(result, raw).toHaveProperty("refused");
      return (result as { refused: string }).refused;
    };
    expect(refused(`https://open/${doc}`)).toContain("writer://");
    expect(refused(`writer://delete/${doc}`)).toContain("not something Writer does");
    expect(refused("writer://open/automerge:notarealid")).toContain("not a document ID");
    expect(refused(`writer://open/${doc.slice(0, -3)}`)).toMatch(/damaged|short/);
    expect(refused(`writer://open/see%20${encodeURIComponent(doc)}%20please`)).toContain("more than a document link");
    expect(refused(`writer://open/%E0%A4%A`)).toContain("damaged");
    expect(refused("writer://open/")).toBeTruthy();
    expect(refused(`writer://open/${doc}${"a".repeat(600)}`)).toContain("too long");
  });

  it("whatever it is given, never throws, and opens nothing but a valid document link", () => {
    const pieces = fc.oneof(fc.string(), fc.webUrl(), fc.constant(doc), fc.constantFrom("writer://", "writer://open/", "automerge:", "%", "/", "..", "\\", "?", "#", "@", ":", "\u0000", "%2F", "%00"));
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 6 }).map((a) => a.join("")), (raw) => {
        const result = parseDeepLink(raw);
        if ("open" in result) return /^automerge:[1-9A-HJ-NP-Za-km-z]+$/.test(result.open) && isValidAutomergeUrl(result.open);
        return typeof result.refused === "string" && result.refused.length > 0;
      }),
      { numRuns: 5000 },
    );
  });

  it("finds the link in a launch's command line, and nothing else", () => {
    expect(deepLinkInArgs(["/opt/Writer/writer", "--no-sandbox", `writer://open/${doc}`])).toBe(`writer://open/${doc}`);
    expect(deepLinkInArgs(["/opt/Writer/writer", "--flag", "file.txt"])).toBeNull();
    expect(deepLinkInArgs(["writer", `writer://open/${"x".repeat(600)}`])).toBeNull();
  });
});
