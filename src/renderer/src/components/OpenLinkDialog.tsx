import { useEffect, useRef, useState, type FormEvent } from "react";
import { readDocumentLink } from "../../../shared/documentLink";


/** Opens a document someone shared: it joins the library and syncs through the relay. */
export function OpenLinkDialog({ onClose, onOpen }: { onClose: () => void; onOpen: (url: string) => Promise<void> }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [text, setText] = useState("");
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const read = readDocumentLink(text);
    if ("problem" in read) {
      setState({ busy: false, error: read.problem });
      return;
    }
    const url = read.url;
    setState({ busy: true, error: null });
    try {
      await onOpen(url);
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  };
  return (
    <dialog ref={dialog} className="settings small-dialog" aria-labelledby="open-link-title" onCancel={onClose} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <header className="settings-head">
          <h2 id="open-link-title">Open a shared document</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        <p className="settings-hint">Paste the link someone copied for you. The document joins your library and syncs through your relay.</p>
        <label className="field">
          <span>Link</span>
          <input autoFocus value={text} onChange={(e) => (setText(e.target.value), setState({ busy: false, error: null }))} placeholder="automerge:…" spellCheck={false} autoComplete="off" />
        </label>
        {state.error && (
          <p className="field-error" role="alert">
            {state.error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="small secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary small" disabled={state.busy}>
            {state.busy ? "Opening…" : "Open"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
