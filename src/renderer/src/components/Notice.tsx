import { useEffect } from "react";

export interface NoticeState {
  kind: "info" | "error";
  message: string;
  action?: { label: string; run: () => void };
}

/** A short message at the bottom of the window; errors stay until dismissed. */
export function Notice({ notice, onClose }: { notice: NoticeState; onClose: () => void }) {
  useEffect(() => {
    if (notice.kind === "error") return;
    const t = setTimeout(onClose, 6000);
    return () => clearTimeout(t);
  }, [notice, onClose]);
  return (
    <div className={`notice notice-${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>
      <span>{notice.message}</span>
      {notice.action && (
        <button
          className="link-button"
          onClick={() => {
            notice.action!.run();
            onClose();
          }}
        >
          {notice.action.label}
        </button>
      )}
      <button className="icon-button" aria-label="Dismiss" onClick={onClose}>
        ×
      </button>
    </div>
  );
}
