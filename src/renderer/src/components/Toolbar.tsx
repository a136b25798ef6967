import { useEffect, useRef, useState, type ReactNode } from "react";
import type { EditorState, Command } from "prosemirror-state";
import type { EditorView } from "prosemirror-view";
import { undo, redo, undoDepth, redoDepth } from "prosemirror-history";
import { schema } from "../../../shared/editor/schema";
import {
  activeBlock,
  activeList,
  insertHorizontalRule,
  isInside,
  linkAt,
  markActive,
  setBlock,
  setLink,
  toggleBlockquote,
  toggleInlineMark,
  toggleList,
  type BlockKind,
} from "../editor/commands";
import { isMac } from "../editor/setup";
import { isElectron } from "../platform";
import { Icon, type IconName } from "./Icon";
import type { ExportKind } from "../importExport";
import type { Peer } from "../presence/usePresence";
import { COMMENT_SHORTCUT } from "./CommentsMargin";
import { SuggestingSwitch } from "./SuggestingSwitch";

/** "Ada Lovelace" → "AL"; one letter for one word. */
function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return ((words[0]?.[0] ?? "?") + (words.length > 1 ? (words[words.length - 1]?.[0] ?? "") : "")).toUpperCase();
}

const mod = isMac ? "⌘" : "Ctrl+";

export function Toolbar({
  view,
  state,
  linkRequest,
  onCopyLink,
  onDuplicate,
  onTrash,
  onExport,
  onPrint,
  onHistory,
  historyOpen,
  peers,
  comments,
}: {
  view: EditorView;
  state: EditorState;
  linkRequest: number;
  onCopyLink: () => void;
  onDuplicate: () => void;
  onTrash: () => void;
  onExport: (kind: ExportKind) => void;
  onPrint: () => void;
  onHistory: () => void;
  historyOpen: boolean;
  peers: Peer[];
  /** Comment on the selection, and show or hide the comments panel. */
  comments?: { onComment: () => void; onPanel: () => void; panelOpen: boolean };
}) {
  const [linkOpen, setLinkOpen] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  /** A menu action that leaves the writer where they were (an export, a copied link): the caret goes back to the text. */
  const andBackToText = (action: () => void) => {
    setMenuOpen(false);
    action();
    view.focus();
  };
  useEffect(() => {
    if (linkRequest > 0) setLinkOpen(true);
  }, [linkRequest]);

  const run = (command: Command) => {
    command(view.state, view.dispatch, view);
    view.focus();
  };
  const block = activeBlock(state);
  const list = activeList(state);
  const m = schema.marks;

  const button = (icon: IconName, label: string, shortcut: string | null, command: Command, active = false) => (
    <button
      type="button"
      className={`tool ${active ? "active" : ""}`}
      aria-label={label}
      aria-pressed={active}
      title={shortcut ? `${label} (${shortcut})` : label}
      disabled={!command(state)}
      onMouseDown={(e) => e.preventDefault()}
      onClick={() => run(command)}
    >
      <Icon name={icon} />
    </button>
  );

  return (
    <div className="toolbar" role="toolbar" aria-label="Formatting">
      <Group>
        {button("undo", "Undo", `${mod}Z`, undo)}
        {button("redo", "Redo", `${mod}Shift+Z`, redo)}
      </Group>
      <Group>
        <select
          className="block-select"
          aria-label="Text style"
          value={block ?? ""}
          onChange={(e) => run(setBlock(e.target.value as BlockKind))}
        >
          {block === null && <option value="">—</option>}
          <option value="paragraph">Body</option>
          <option value="h1">Heading 1</option>
          <option value="h2">Heading 2</option>
          <option value="h3">Heading 3</option>
          <option value="code">Code block</option>
        </select>
      </Group>
      <Group>
        {button("bold", "Bold", `${mod}B`, toggleInlineMark("strong"), markActive(state, m.strong!))}
        {button("italic", "Italic", `${mod}I`, toggleInlineMark("em"), markActive(state, m.em!))}
        {button("underline", "Underline", `${mod}U`, toggleInlineMark("underline"), markActive(state, m.underline!))}
        {button("strike", "Strikethrough", `${mod}Shift+X`, toggleInlineMark("strike"), markActive(state, m.strike!))}
        {button("code", "Inline code", `${mod}E`, toggleInlineMark("code"), markActive(state, m.code!))}
        <span className="link-anchor">
          <button
            type="button"
            className={`tool ${linkAt(state) ? "active" : ""}`}
            aria-label="Link"
            aria-pressed={!!linkAt(state)}
            title={`Link (${mod}K)`}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => setLinkOpen((o) => !o)}
          >
            <Icon name="link" />
          </button>
          {linkOpen && <LinkEditor view={view} initial={linkAt(state) ?? ""} onClose={() => setLinkOpen(false)} />}
        </span>
      </Group>
      <Group>
        {button("bullets", "Bulleted list", `${mod}Shift+8`, toggleList("bullet_list"), list === "bullet_list")}
        {button("numbers", "Numbered list", `${mod}Shift+7`, toggleList("ordered_list"), list === "ordered_list")}
        {button("tasks", "Task list", `${mod}Shift+9`, toggleList("task_list"), list === "task_list")}
        {button("quote", "Quote", `${mod}Shift+B`, toggleBlockquote(), isInside(state, schema.nodes.blockquote!))}
        {button("rule", "Horizontal rule", `${mod}Enter`, insertHorizontalRule)}
      </Group>
      {comments && (
        <Group>
          <button type="button" className="tool" aria-label="Comment" title={`Comment (${COMMENT_SHORTCUT})`} disabled={state.selection.empty} onMouseDown={(e) => e.preventDefault()} onClick={comments.onComment}>
            <Icon name="comment" />
          </button>
        </Group>
      )}
      <span className="toolbar-spacer" />
      <SuggestingSwitch view={view} state={state} />
      {peers.length > 0 && (
        <span className="peers" aria-label={`Also here: ${peers.map((p) => p.user.name).join(", ")}`} data-testid="peers">
          {peers.slice(0, 5).map((p) => (
            <span key={p.peerId} className="peer" title={p.user.name} style={{ background: p.user.color }}>
              {initials(p.user.name)}
            </span>
          ))}
          {peers.length > 5 && <span className="peer peer-more">+{peers.length - 5}</span>}
        </span>
      )}
      {comments && (
        <button type="button" className={`tool ${comments.panelOpen ? "active" : ""}`} aria-label="All comments" aria-pressed={comments.panelOpen} title="All comments" onClick={comments.onPanel}>
          <Icon name="comments" />
        </button>
      )}
      <button type="button" className={`tool ${historyOpen ? "active" : ""}`} aria-label="Version history" aria-pressed={historyOpen} title="Version history" onClick={onHistory}>
        <Icon name="history" />
      </button>
      <span className="menu-anchor">
        <button type="button" className="tool" aria-label="Document actions" aria-haspopup="menu" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)}>
          <Icon name="more" />
        </button>
        {menuOpen && (
          <div className="menu" role="menu" onMouseLeave={() => setMenuOpen(false)}>
            <button role="menuitem" onClick={() => andBackToText(() => onCopyLink())}>
              Copy link to share
            </button>
            <button role="menuitem" onClick={() => (setMenuOpen(false), onDuplicate())}>
              Duplicate
            </button>
            <hr className="menu-divider" />
            <button role="menuitem" onClick={() => andBackToText(() => onExport("docx"))}>
              Export as Word (.docx)
            </button>
            <button role="menuitem" onClick={() => andBackToText(() => onExport("markdown"))}>
              Export as Markdown
            </button>
            <button role="menuitem" onClick={() => andBackToText(() => onExport("html"))}>
              Export as HTML
            </button>
            <button role="menuitem" onClick={() => andBackToText(() => onExport("html-comments"))}>
              Export as HTML with comments
            </button>
            <button role="menuitem" onClick={() => andBackToText(() => onExport("text"))}>
              Export as plain text
            </button>
            <button role="menuitem" onClick={() => (setMenuOpen(false), onPrint())}>
              {isElectron ? "Export as PDF…" : "Print or save as PDF…"}
            </button>
            <button role="menuitem" onClick={() => andBackToText(() => onExport("backup"))}>
              Download a backup (with history)
            </button>
            <hr className="menu-divider" />
            <button role="menuitem" className="danger" onClick={() => (setMenuOpen(false), onTrash())}>
              Move to trash
            </button>
          </div>
        )}
      </span>
      <span className="sr-only">
        {undoDepth(state)} undo, {redoDepth(state)} redo
      </span>
    </div>
  );
}

function Group({ children }: { children: ReactNode }) {
  return <span className="tool-group">{children}</span>;
}

function LinkEditor({ view, initial, onClose }: { view: EditorView; initial: string; onClose: () => void }) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const apply = () => {
    const ok = setLink(value)(view.state, view.dispatch);
    if (!ok) {
      setError("Only web (http, https) and mailto links can be added.");
      return;
    }
    onClose();
    view.focus();
  };
  return (
    <form
      className="popover link-editor"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <input
        ref={input}
        type="text"
        aria-label="Link address"
        placeholder="https://…"
        value={value}
        onChange={(e) => (setValue(e.target.value), setError(null))}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            onClose();
            view.focus();
          }
        }}
      />
      <button type="submit" className="primary small">
        {value.trim() === "" && initial ? "Remove" : "Apply"}
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
