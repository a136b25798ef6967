/**
 * A past version of the document, read-only, with what differs from the current one
 * highlighted: text the current version lacks (restoring brings it back) in colour,
 * text added since (restoring removes it) struck through where it is now. Follows the
 * current version as collaborators keep writing.
 */
import { useEffect, useRef, useState } from "react";
import { next as A } from "@automerge/automerge/slim";
import type { DocHandle } from "@automerge/automerge-repo/slim";
import { pmDocFromSpans } from "@automerge/prosemirror";
import { EditorState, Plugin } from "prosemirror-state";
import { EditorView, type DecorationSet } from "prosemirror-view";
import { TEXT_PATH, type WriterDocument } from "../../../shared/document";
import { schema, schemaAdapter } from "../../../shared/editor/schema";
import { changedText, hasHeads, sameContent } from "../../../shared/history";
import { UNTITLED } from "../../../shared/library";
import { taskItemView } from "../editor/setup";
import { changeDecorations, hasChanges } from "./highlights";
import type { VersionChoice } from "./HistoryPanel";

/** The comparison follows the current version at most this often while it changes. */
const REFRESH_MS = 1000;

interface Shown {
  title: string;
  differs: boolean;
  titleDiffers: boolean;
}

export function VersionView({
  handle,
  version,
  onRestore,
  onName,
  onClose,
}: {
  handle: DocHandle<WriterDocument>;
  version: VersionChoice;
  onRestore: () => void;
  onName: (name: string) => void;
  onClose: () => void;
}) {
  const mountRef = useRef<HTMLDivElement>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const [missing, setMissing] = useState(false);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState("");

  useEffect(() => {
    const mount = mountRef.current;
    if (!mount) return;
    const doc = handle.doc();
    if (!hasHeads(doc, version.heads)) {
      setMissing(true);
      return;
    }
    const past = A.view(doc, version.heads) as WriterDocument;
    const spans = A.spans(past, TEXT_PATH);
    const pmDoc = pmDocFromSpans(schemaAdapter, spans);
    let decorations: DecorationSet | null = null;
    const compare = () => {
      const current = handle.doc();
      const changes = changedText(current, A.getHeads(current), version.heads);
      decorations = changeDecorations(pmDoc, spans, changes);
      const titleDiffers = (current.title ?? "") !== (past.title ?? "");
      setShown({ title: past.title ?? "", titleDiffers, differs: titleDiffers || hasChanges(changes) || !sameContent(current, past) });
    };
    compare();
    const view = new EditorView(mount, {
      state: EditorState.create({ schema, doc: pmDoc, plugins: [new Plugin({ props: { decorations: () => decorations } })] }),
      editable: () => false,
      nodeViews: { task_item: taskItemView },
      attributes: { class: "prose version-prose", "aria-label": "Text of this version", "aria-readonly": "true", role: "document" },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onChange = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        compare();
        view.setProps({});
      }, REFRESH_MS);
    };
    handle.on("change", onChange);
    return () => {
      clearTimeout(timer);
      handle.off("change", onChange);
      view.destroy();
    };
  }, [handle, version]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && !naming && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [naming, onClose]);

  return (
    <div className="version-pane" data-testid="version-view">
      <div className="version-bar" role="region" aria-label="Viewing a past version">
        <div className="version-what">
          <strong>{version.label}</strong>
          <span className="version-hint">
            {missing
              ? "This version is not on this computer yet."
              : shown && !shown.differs
                ? "Read-only. Same as the current version."
                : "Read-only. Highlighted: not in the current version. Struck through: added since."}
          </span>
        </div>
        <div className="version-actions">
          {naming ? (
            <form
              className="history-naming"
              onSubmit={(e) => {
                e.preventDefault();
                if (!name.trim()) return;
                onName(name);
                setNaming(false);
                setName("");
              }}
            >
              <input autoFocus aria-label="Name for this version" placeholder="Name this version" maxLength={100} value={name} onChange={(e) => setName(e.target.value)} onKeyDown={(e) => e.key === "Escape" && setNaming(false)} />
              <button type="submit" className="primary small" disabled={!name.trim()}>
                Name
              </button>
            </form>
          ) : (
            <button className="secondary small" disabled={missing} onClick={() => setNaming(true)}>
              Name this version…
            </button>
          )}
          <button className="primary small" disabled={missing || !shown?.differs} onClick={onRestore}>
            Restore this version
          </button>
          <button className="secondary small" onClick={onClose}>
            Back to current
          </button>
        </div>
      </div>
      <div className="scroller">
        <article className="page">
          <h1 className={`title-input version-title ${shown?.titleDiffers ? "hl-title" : ""}`}>{shown?.title || UNTITLED}</h1>
          <div ref={mountRef} className="editor-mount" />
        </article>
      </div>
    </div>
  );
}
