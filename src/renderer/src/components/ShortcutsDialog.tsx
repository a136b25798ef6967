import { useEffect, useRef } from "react";
import { isMac } from "../editor/setup";

/** Help ▸ Keyboard Shortcuts: the keys the editor and the app answer (editor/setup.ts, App.tsx, EditorPane.tsx). */
const SHORTCUTS: [string, [string, string][]][] = [
  [
    "Documents",
    [
      ["Mod+N", "New document"],
      ["Mod+O", "Open a shared link"],
      ["Mod+P", "Print or save as PDF"],
      ["Mod+S", "Save (Writer also saves as you type)"],
      ["Mod+F", "Find"],
      [isMac ? "Mod+Alt+F" : "Ctrl+H", "Find and replace"],
    ],
  ],
  [
    "Text",
    [
      ["Mod+B", "Bold"],
      ["Mod+I", "Italic"],
      ["Mod+U", "Underline"],
      ["Shift+Mod+X", "Strikethrough"],
      ["Mod+E", "Code"],
      ["Mod+K", "Link"],
      ["Mod+Alt+M", "Comment on the selection"],
      ["Mod+Alt+Shift+S", "Switch between Editing and Suggesting"],
      ["Mod+Z", "Undo your own typing"],
      [isMac ? "Shift+Mod+Z" : "Mod+Y", "Redo"],
    ],
  ],
  [
    "Paragraphs",
    [
      ["Mod+Alt+0", "Body text"],
      ["Mod+Alt+1 … 3", "Heading 1 to 3"],
      ["Shift+Mod+8", "Bulleted list"],
      ["Shift+Mod+7", "Numbered list"],
      ["Shift+Mod+9", "Task list"],
      ["Shift+Mod+B", "Quote"],
      ["Shift+Mod+C", "Code block"],
      ["Mod+Enter", "Horizontal rule"],
      ["Shift+Enter", "Line break"],
      ["Tab / Shift+Tab", "Indent or outdent a list item"],
    ],
  ],
];

const keys = (combo: string) => combo.replace(/Mod/g, isMac ? "⌘" : "Ctrl").replace(/Alt/g, isMac ? "⌥" : "Alt").replace(/Shift/g, isMac ? "⇧" : "Shift");

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={dialog} className="settings shortcuts-dialog" aria-labelledby="shortcuts-title" onCancel={onClose} onClose={onClose}>
      <header className="settings-head">
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {SHORTCUTS.map(([group, list]) => (
        <section key={group} className="shortcut-group">
          <h3>{group}</h3>
          <dl>
            {list.map(([combo, what]) => (
              <div key={combo} className="shortcut">
                <dt>
                  <kbd>{keys(combo)}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
    </dialog>
  );
}
