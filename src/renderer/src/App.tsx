import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Repo } from "@automerge/automerge-repo/slim";
import type { Bootstrap, HostStatus, UserProfile } from "../../shared/api";
import { UNTITLED, type LibraryDocument } from "../../shared/library";
import type { HostClient } from "./hostClient";
import { useHandle } from "./useHandle";
import { Sidebar } from "./components/Sidebar";
import { importFile } from "./importExport";
import { KnownBackupDialog, type KnownBackup } from "./components/KnownBackupDialog";
import { EditorPane } from "./components/EditorPane";
import { CachedPage } from "./components/CachedPage";
import { Notice, type NoticeState } from "./components/Notice";
import { useHostConnection } from "./useHostConnection";
import { useSyncStatus } from "./useSyncStatus";
import { describeStorage } from "./storageProblem";
import { SettingsDialog } from "./components/SettingsDialog";
import { OpenLinkDialog } from "./components/OpenLinkDialog";
import { isMac } from "./editor/setup";
import { NameCard } from "./components/NameCard";
import { ShortcutsDialog } from "./components/ShortcutsDialog";
import { listenForDesktopCommands } from "./desktopCommands";

export function App({ repo, host }: { repo: Repo; host: HostClient }) {
  const [boot, setBoot] = useState<Bootstrap | null>(null);
  const [bootError, setBootError] = useState<string | null>(null);
  const [openUrl, setOpenUrl] = useState<string | null>(null);
  const [notice, setNotice] = useState<NoticeState | null>(null);
  /** A shared link opened whose document has not arrived (it is not in the library yet). */
  const [pendingShared, setPendingShared] = useState<string | null>(null);
  const [status, setStatus] = useState<HostStatus | null>(null);
  const connected = useHostConnection(repo);
  const [dialog, setDialog] = useState<"settings" | "open-link" | "shortcuts" | null>(null);
  /** A backup of a document the library has, waiting for the writer to say what to do. */
  const [knownBackup, setKnownBackup] = useState<{ backup: KnownBackup; resolve: (choice: "merge" | "keep-both" | null) => void } | null>(null);
  const sync = useSyncStatus(host, openUrl);

  useEffect(() => {
    // early.ts asked already (a page that ran without it, or whose answer failed, asks here).
    const early = window.writerEarlyBoot?.catch(() => null);
    (early ?? Promise.resolve(null))
      .then((b) => b ?? host.call("bootstrap"))
      .then((b) => {
        performance.mark("writer:bootstrap");
        setBoot(b);
        setOpenUrl(b.lastOpened);
        // It may be a shared document still on its way (the host says it reopens once here).
        setPendingShared(b.lastOpened);
        setStatus(b.status);
      })
      .catch((e: unknown) => setBootError((e as Error).message));
  }, [host]);

  // Storage problems (a damaged chunk, a full disk) are the host's to find and the writer's to hear.
  useEffect(() => {
    if (!boot) return;
    const timer = setInterval(() => {
      // A new object every poll would re-render the whole window every two seconds.
      host.call("status").then(
        (next) => setStatus((prev) => (prev && JSON.stringify(prev) === JSON.stringify(next) ? prev : next)),
        () => undefined,
      );
    }, 2000);
    return () => clearInterval(timer);
  }, [host, boot]);

  const library = useHandle<LibraryDocument>(repo, boot?.libraryUrl ?? null);

  const report = useCallback((e: unknown) => setNotice({ kind: "error", message: (e as Error).message }), []);

  const open = useCallback(
    (url: string | null) => {
      setOpenUrl(url);
      host.call("setLastOpened", { url }).catch(() => undefined);
    },
    [host],
  );

  const actions = useMemo(
    () => ({
      create: async () => {
        const { url } = await host.call("createDocument", { title: "" });
        open(url);
        return url;
      },
      duplicate: async (url: string) => open((await host.call("duplicateDocument", { url })).url),
      trash: async (url: string, title: string) => {
        await host.call("trashDocument", { url });
        // Only if it is still the one open: the writer may have opened another while the
        // host was answering, and that choice must stand (a stale closure once undid it).
        setOpenUrl((current) => (current === url ? null : current));
        setNotice({ kind: "info", message: `“${title || "Untitled"}” moved to the trash.`, action: { label: "Undo", run: () => void host.call("restoreDocument", { url }).then(() => open(url), report) } });
      },
      restore: async (url: string) => {
        await host.call("restoreDocument", { url });
        open(url);
      },
      deleteForever: async (url: string) => {
        await host.call("deleteForever", { url });
      },
      emptyTrash: async () => {
        const { deleted } = await host.call("emptyTrash");
        setNotice({ kind: "info", message: deleted === 1 ? "1 document deleted for good." : `${deleted} documents deleted for good.` });
      },
      search: (query: string) => host.call("search", { query }),
      copyLink: async (url: string) => {
        try {
          await navigator.clipboard.writeText(url);
          setNotice({ kind: "info", message: "Link copied. Whoever opens it through the same relay can read and edit this document." });
        } catch {
          setNotice({ kind: "info", message: `Copy this link to share the document: ${url}` });
        }
      },
      openShared: async (url: string) => {
        await host.call("openSharedDocument", { url });
        // Shown while it is on its way, though the library lists it only once it is here.
        setPendingShared(url);
        open(url);
      },
    }),
    [host, open, report],
  );

  // A new name or colour reaches the open document at once (presence, history), not after a reload.
  const profileChanged = useCallback((user: UserProfile) => setBoot((b) => (b ? { ...b, user, nameConfirmed: true } : b)), []);

  // Import… (and a backup the system opened with Writer): made a document, and opened.
  const importAndOpen = useCallback(
    (file: File) =>
      importFile(file, host, repo, (known) => new Promise((resolve) => setKnownBackup({ backup: { fileName: file.name, ...known }, resolve }))).then((imported) => {
        if (!imported) return;
        const { url, title, note, merged } = imported;
        open(url);
        const message = merged ? `“${file.name}” merged into “${title || UNTITLED}”.` : `“${file.name}” imported as “${title || UNTITLED}”.`;
        setNotice({ kind: "info", message: `${message}${note ? ` ${note}` : ""}` });
      }, report),
    [host, repo, open, report],
  );

  // The desktop app's menu and writer:// links (the editor takes the commands about its document).
  const libraryDocs = useRef<LibraryDocument["documents"] | undefined>(undefined);
  libraryDocs.current = library.status === "ready" ? library.doc.documents : undefined;
  useEffect(() => {
    if (!boot) return;
    return listenForDesktopCommands((c) => {
      if (c.command === "new-document") void actions.create().catch(report);
      else if (c.command === "open-link") setDialog("open-link");
      else if (c.command === "shortcuts") setDialog("shortcuts");
      else if (c.command === "import") document.querySelector<HTMLInputElement>("input[data-import-input]")?.click();
      else if (c.command === "open-file") void importAndOpen(new File([c.bytes.slice().buffer as ArrayBuffer], c.name));
      else if (c.command === "open-document") {
        // One the library has opens as if clicked; another joins the library as a shared link does.
        const known = Object.values(libraryDocs.current ?? {}).some((d) => d.url === c.url);
        if (known) open(c.url);
        else void actions.openShared(c.url).catch(report);
      }
    });
  }, [boot, actions, open, report, importAndOpen]);

  // Ctrl/⌘+N makes a new document and Ctrl/⌘+O opens a shared link, from anywhere.
  const create = actions.create;
  useEffect(() => {
    if (!boot) return;
    const onKey = (e: KeyboardEvent) => {
      if (!(isMac ? e.metaKey : e.ctrlKey) || e.shiftKey || e.altKey) return;
      const key = e.key.toLowerCase();
      if (key === "n") {
        e.preventDefault();
        void create().catch(report);
      } else if (key === "o") {
        e.preventDefault();
        setDialog("open-link");
      }
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [boot, create, report]);

  if (bootError) return <div className="fatal">Writer could not reach its host: {bootError}</div>;
  if (!boot || library.status === "loading") {
    // The first paint (early.ts) stays on screen, with what the writer types on it.
    const early = window.writerEarlyPaint;
    const reopening = window.writerReopening;
    if (early && reopening)
      return (
        <div className="app">
          <aside className="sidebar" aria-busy="true" />
          <main className="pane">
            <CachedPage url={reopening} view={early} />
          </main>
        </div>
      );
    return <div className="splash" aria-busy="true">Opening your library…</div>;
  }
  if (library.status === "unavailable") return <div className="fatal">Your library could not be opened: {library.message}</div>;

  const entry = openUrl ? library.doc.documents[openUrl.slice("automerge:".length)] : undefined;

  return (
    <div className="app">
      <Sidebar
        top={boot.nameConfirmed ? null : <NameCard host={host} user={boot.user} suggested={boot.suggestedName} onSaved={profileChanged} />}
        library={library.doc}
        openUrl={openUrl}
        onOpen={open}
        actions={actions}
        onError={report}
        sync={sync}
        onSettings={() => setDialog("settings")}
        onRetry={() => void host.call("reconnectNow").catch(report)}
        onOpenLink={() => setDialog("open-link")}
        onImport={importAndOpen}
      />
      <main className="pane">
        {openUrl && (entry ? entry.trashedAt === null : openUrl === pendingShared) ? (
          <EditorPane
            key={openUrl}
            repo={repo}
            host={host}
            url={openUrl}
            user={boot.user}
            writerId={boot.writerId}
            connected={connected}
            storageOk={status?.storageOk ?? true}
            sync={sync}
            integrity={import.meta.env.DEV ? "strict" : boot.integrityChecks}
            onCopyLink={() => void actions.copyLink(openUrl)}
            onDuplicate={() => actions.duplicate(openUrl).catch(report)}
            onTrash={(title) => actions.trash(openUrl, title).catch(report)}
            onNotice={(message) => setNotice({ kind: "info", message })}
          />
        ) : (
          <div className="empty-pane">
            <p className="empty-title">{Object.keys(library.doc.documents).length === 0 ? "Your library is empty." : "No document open."}</p>
            <button className="primary" onClick={() => actions.create().catch(report)}>
              New document
            </button>
          </div>
        )}
      </main>
      {status && <StorageProblems status={status} />}
      {notice && <Notice notice={notice} onClose={() => setNotice(null)} />}
      {dialog === "settings" && <SettingsDialog host={host} sync={sync} onClose={() => setDialog(null)} onLibraryLinked={() => window.location.reload()} onProfile={profileChanged} />}
      {knownBackup && (
        <KnownBackupDialog
          backup={knownBackup.backup}
          onChoose={(choice) => {
            knownBackup.resolve(choice);
            setKnownBackup(null);
          }}
        />
      )}
      {dialog === "shortcuts" && <ShortcutsDialog onClose={() => setDialog(null)} />}
      {dialog === "open-link" && (
        <OpenLinkDialog
          onClose={() => setDialog(null)}
          onOpen={async (url) => {
            await actions.openShared(url);
            setDialog(null);
          }}
        />
      )}
    </div>
  );
}

function StorageProblems({ status }: { status: HostStatus }) {
  const [dismissed, setDismissed] = useState(0);
  const banner = describeStorage(status, dismissed);
  if (!banner) return null;
  return (
    <div className="problem" role="alert">
      <strong>{banner.headline}</strong> {banner.message}
      {banner.dismissible && (
        <button className="link-button" onClick={() => setDismissed(status.problems.length)}>
          Dismiss
        </button>
      )}
    </div>
  );
}
