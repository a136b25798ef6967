import "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { next as A } from "@automerge/automerge";
import type { DocHandle } from "@automerge/automerge-repo";
import { plainText, TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { documentWith } from "./support/documents";
import { placeOpeningTyping } from "../../src/renderer/src/openingTyping";
import type { TypedOnCache } from "../../src/renderer/src/openingPage";

/**
 * What a writer typed on a document's opening page joins the document when it
 * has loaded, as a change made at the heads the page was drawn from. (The page itself is
 * tested in Chromium: test/e2e/open.test.ts.)
 */


const heads = (handle: DocHandle<WriterDocument>) => A.getHeads(handle.doc());
const text = (handle: DocHandle<WriterDocument>) => plainText(handle.doc());

describe("typing on the opening page", () => {
  it("goes into a document still at the cache's heads as typed, with the caret after it", () => {
    const handle = documentWith("The tide came in.");
    // "The tide came in." is at 1..17: replace "came" (10..14) with "comes", then add " Gulls." at the end.
    const typed: TypedOnCache = {
      heads: heads(handle),
      splices: [
        { index: 10, remove: 4, insert: "comes" },
        { index: 19, remove: 0, insert: " Gulls." },
      ],
      caret: 26,
      focused: true,
    };
    const placed = placeOpeningTyping(handle, typed);
    expect(text(handle)).toBe("The tide comes in. Gulls.");
    expect(placed).toEqual({ caret: 26 });
  });

  it("is merged with what the document has had since the cache: both whole, the caret after the writer's words", () => {
    const handle = documentWith("The tide came in.");
    const cached = heads(handle);
    // Another device's edit, after the cache was written, at the start.
    handle.change((d) => A.splice(d, TEXT_PATH, 1, 0, "At six, "));
    const placed = placeOpeningTyping(handle, { heads: cached, splices: [{ index: 18, remove: 0, insert: " Gulls." }], caret: 25, focused: true });
    expect(text(handle)).toBe("At six, The tide came in. Gulls.");
    expect(placed).toEqual({ caret: 33 });
  });

  it("leaves a document without the cache's heads untouched, and gives back what was typed", () => {
    const handle = documentWith("The tide came in.");
    const before = heads(handle);
    const placed = placeOpeningTyping(handle, { heads: ["ab".repeat(32)], splices: [{ index: 18, remove: 0, insert: " Gulls" }, { index: 24, remove: 0, insert: "!" }], caret: 25, focused: true });
    expect(placed).toEqual({ failed: " Gulls!" });
    expect(heads(handle)).toEqual(before);
  });

  it("changes nothing when nothing was typed", () => {
    const handle = documentWith("The tide came in.");
    const before = heads(handle);
    expect(placeOpeningTyping(handle, { heads: before, splices: [], caret: 5, focused: true })).toEqual({ caret: null });
    expect(heads(handle)).toEqual(before);
  });
});
