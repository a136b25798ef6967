/**
 * First paint of a document from the host's render cache (src/host/RenderCache.ts):
 * its title and text as they were last time, read-only, while the document itself loads
 * into this window. The editor replaces it as soon as the document is here; nothing
 * typed or clicked here can change anything.
 */
import { useEffect, useRef } from "react";
import type { next as A } from "@automerge/automerge/slim";
import { pmDocFromSpans } from "@automerge/prosemirror";
import { EditorState } from "prosemirror-state";
import { EditorView } from "prosemirror-view";
import type { RenderCacheView } from "../../../shared/api";
import { schema, schemaAdapter } from "../../../shared/editor/schema";
import { UNTITLED } from "../../../shared/library";
import { taskItemView } from "../editor/setup";

export function CachedPage({ view }: { view: RenderCacheView }) {
  const mountRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const mount = mountRef.current;
    if (!mount) return;
    let editor: EditorView;
    try {
      const doc = pmDocFromSpans(schemaAdapter, view.spans as A.Span[]);
      editor = new EditorView(mount, {
        state: EditorState.create({ schema, doc }),
        editable: () => false,
        nodeViews: { task_item: taskItemView },
        attributes: { class: "prose", "aria-label": "Document text (opening)", "aria-readonly": "true", role: "document" },
      });
    } catch {
      // A cache the binding cannot read is simply not shown; the document is on its way.
      return;
    }
    mount.dataset.cached = "true";
    // The long-document bench measures time to text on screen from this.
    requestAnimationFrame(() => performance.mark("writer:cached-text"));
    return () => editor.destroy();
  }, [view]);
  return (
    <div className="editor-pane cached-pane" aria-busy="true">
      <div className="opening-bar" role="status">
        Opening… the text is shown as it was last saved; you can edit in a moment.
      </div>
      <div className="scroller">
        <article className="page">
          <h1 className="title-input cached-title">{view.title || UNTITLED}</h1>
          <div ref={mountRef} className="cached-mount" />
        </article>
      </div>
    </div>
  );
}
