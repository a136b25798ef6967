import { useEffect, useRef } from "react";
import type { ImportExisting } from "../../../shared/api";
import { moment } from "../time";

export interface KnownBackup {
  fileName: string;
  title: string;
  updatedAt: number;
  trashed: boolean;
}

/**
 * A backup of a document the library already has: merge it into that document, or keep
 * both (the backup as a new document named with the day it came in), or neither.
 */
export function KnownBackupDialog({ backup, onChoose }: { backup: KnownBackup; onChoose: (choice: Exclude<ImportExisting, "ask"> | null) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, []);
  const title = backup.title || "Untitled";
  return (
    <dialog ref={dialog} className="settings small-dialog" aria-labelledby="known-backup-title" onCancel={() => onChoose(null)}>
      {/* A form, as the other small dialogs (their padding), whose Enter merges. */}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onChoose("merge");
        }}
      >
        <header className="settings-head">
          <h2 id="known-backup-title">This document is already in your library</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={() => onChoose(null)}>
            ×
          </button>
        </header>
        <p className="settings-hint">
          “{backup.fileName}” is a backup of “{title}”, {backup.trashed ? "in your trash" : "in your library"} (last edited {moment(backup.updatedAt, Date.now())}).
        </p>
        <p className="settings-hint">
          <strong>Merge</strong> brings what the backup has into “{title}”: nothing in either is lost. <strong>Keep both</strong> adds the backup beside it, as “{title} (imported …)” with
          today’s date.
        </p>
        <div className="dialog-actions">
          <button type="button" className="small secondary" onClick={() => onChoose(null)}>
            Cancel
          </button>
          <button type="button" className="small secondary" onClick={() => onChoose("keep-both")}>
            Keep both
          </button>
          <button type="submit" className="primary small" autoFocus>
            Merge
          </button>
        </div>
      </form>
    </dialog>
  );
}
