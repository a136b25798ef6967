import "@automerge/automerge";
import { describe, expect, it, vi } from "vitest";
import { next as A } from "@automerge/automerge";
import type { DocHandle } from "@automerge/automerge-repo";
import { EditorState, type PluginView, type Transaction } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { schema as s, schemaAdapter } from "../../src/shared/editor/schema";
import { TEXT_PATH, type WriterDocument } from "../../src/shared/document";
import { documentWith } from "./support/documents";
import { writerSyncPlugin } from "../../src/renderer/src/editor/sync";
import { findMismatch, integrityPlugin, REPAIR_META, renderDocument, sameContent, type IntegrityMode, type Mismatch } from "../../src/renderer/src/editor/integrity";

/**
 * The editor's integrity check (issue 17): what the editor shows must be the rendering
 * of the Automerge document. A drift is made here on purpose, by a transaction that the
 * sync plugin does not write to Automerge (the repair meta), which is what a mapping
 * bug in the binding amounts to.
 */


/** ProseMirror's EditorView as far as plugins see it, without a DOM. */
function headless(handle: DocHandle<WriterDocument>, mode: IntegrityMode, held = () => 0) {
  const mismatches: Mismatch[] = [];
  const raised: Error[] = [];
  const sync = writerSyncPlugin({ adapter: schemaAdapter, handle: handle as DocHandle<unknown>, path: TEXT_PATH });
  const integrity = integrityPlugin({ handle: handle as DocHandle<unknown>, mode, held, onMismatch: (m) => mismatches.push(m), raise: (e) => raised.push(e) });
  const view = {
    state: EditorState.create({ schema: s, doc: renderDocument(handle as DocHandle<unknown>), plugins: [sync.plugin, integrity.plugin] }),
    isDestroyed: false,
    dispatch(tr: Transaction) {
      const prev = view.state;
      view.state = view.state.apply(tr);
      for (const v of views) v.update?.(view as unknown as EditorView, prev);
    },
  };
  const views: PluginView[] = view.state.plugins.flatMap((p) => (p.spec.view ? [p.spec.view(view as unknown as EditorView)] : []));
  return { view, mismatches, raised, committed: () => integrity.committed(view as unknown as EditorView) };
}

/** A letter on screen that is in no document. */
function drift(view: { state: EditorState; dispatch(tr: Transaction): void }): void {
  view.dispatch(view.state.tr.insertText("o", 6).setMeta(REPAIR_META, true).setMeta("addToHistory", false));
}

describe("the editor's integrity check", () => {
  it("compares content, not the binding's bookkeeping", () => {
    const a = s.node("doc", null, [s.node("paragraph", { isAmgBlock: true }, [s.text("x"), s.node("hard_break", null, undefined, [s.marks.strong!.create()])])]);
    const b = s.node("doc", null, [s.node("paragraph", { isAmgBlock: false }, [s.text("x"), s.node("hard_break")])]);
    expect(sameContent(a, b)).toBe(true);
    // Attributes learnt in another order (an unknown block's, from a peer) are the same.
    const u1 = s.node("doc", null, [s.node("paragraph", { unknownAttrs: { onload: "x", src: "y" } })]);
    const u2 = s.node("doc", null, [s.node("paragraph", { unknownAttrs: { src: "y", onload: "x" } })]);
    expect(sameContent(u1, u2)).toBe(true);
    const bold = s.node("doc", null, [s.node("paragraph", null, [s.text("x", [s.marks.strong!.create()])])]);
    const plain = s.node("doc", null, [s.node("paragraph", null, [s.text("x")])]);
    expect(sameContent(bold, plain)).toBe(false);
    expect(findMismatch(bold, plain, "an edit")).toMatchObject({ at: 1, editor: 'doc > paragraph | strong("x") | …x…', document: 'doc > paragraph | "x" | …x…' });
  });

  it("strict: a drift fails loudly with both texts, and the editor is set back to the document", async () => {
    const handle = documentWith("twice. She slept");
    const { view, raised } = headless(handle, "strict");
    drift(view);
    expect(raised).toHaveLength(1);
    expect(raised[0]!.message).toContain('editor:   "doc > paragraph | \\"o. She slept\\" | …twiceo. She slept…"');
    expect(raised[0]!.message).toContain('document: "doc > paragraph | \\". She slept\\" | …twice. She slept…"');
    await Promise.resolve();
    expect(view.state.doc.toString()).toBe('doc(paragraph("twice. She slept"))');
    // The repair wrote nothing to the document.
    expect(A.spans(handle.doc(), TEXT_PATH).filter((x) => x.type === "text").map((x) => x.value)).toEqual(["twice. She slept"]);
  });

  it("repair: the check runs when the browser is idle, re-renders from the document and reports the drift once", async () => {
    vi.useFakeTimers();
    try {
      const handle = documentWith("twice. She slept");
      const { view, mismatches, raised } = headless(handle, "repair");
      drift(view);
      expect(view.state.doc.textContent).toBe("twiceo. She slept");
      await vi.advanceTimersByTimeAsync(100);
      expect(view.state.doc.textContent).toBe("twice. She slept");
      expect(mismatches).toHaveLength(1);
      expect(mismatches[0]!.at).toBe(6);
      expect(raised).toEqual([]);
      await vi.advanceTimersByTimeAsync(3000);
      expect(mismatches).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("waits for typing held for a burst's change: Automerge does not have it yet", () => {
    const handle = documentWith("twice");
    let held = 1;
    const { view, raised, committed } = headless(handle, "strict", () => held);
    drift(view);
    expect(raised).toEqual([]);
    held = 0;
    committed();
    return Promise.resolve().then(() => expect(raised).toHaveLength(1));
  });
});
