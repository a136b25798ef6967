import { useCallback, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import type { RelayInfo, SettingsView, SyncStatus, UserProfile } from "../../../shared/api";
import { USER_COLORS } from "../../../shared/colors";
import { readDocumentLink } from "../../../shared/documentLink";
import { enterAddress, enterNewToken, enterToken, relayFieldErrors, type NewTokenEntry, type RelayFieldEntry, type RelayFieldErrors, type RelayFields } from "../../../shared/relayForm";
import type { HostClient } from "../hostClient";
import { describeSync } from "../useSyncStatus";

/**
 * Settings: who you are to collaborators, the relays this computer syncs through (in
 * order of preference), and this library's link for a second device. Tokens are typed
 * here once and go to the host; they never come back to this window.
 */
export function SettingsDialog({
  host,
  sync,
  onClose,
  onLibraryLinked,
  onProfile,
}: {
  host: HostClient;
  sync: SyncStatus | null;
  onClose: () => void;
  onLibraryLinked: () => void;
  /** The writer's name or colour changed: the open windows show it at once. */
  onProfile: (user: UserProfile) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [view, setView] = useState<SettingsView | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(() => host.call("getSettings").then(setView, (e: unknown) => setError((e as Error).message)), [host]);
  useEffect(() => {
    void reload();
    const d = dialog.current;
    if (d && !d.open) d.showModal();
  }, [reload]);

  /** Runs a host call, then shows the settings as they now are (or the error). */
  const run = async (action: () => Promise<unknown>): Promise<boolean> => {
    setError(null);
    try {
      await action();
      await reload();
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    }
  };

  const status = describeSync(sync);

  return (
    <dialog ref={dialog} className="settings" aria-labelledby="settings-title" onCancel={onClose} onClose={onClose}>
      <header className="settings-head">
        <h2 id="settings-title">Settings</h2>
        <button className="icon-button" aria-label="Close settings" onClick={onClose}>
          ×
        </button>
      </header>
      {error && (
        <p className="field-error settings-error" role="alert">
          {error}
        </p>
      )}
      {!view ? (
        <p className="settings-loading">Loading…</p>
      ) : (
        <div className="settings-body">
          <Section title="You" hint="How collaborators see you in shared documents.">
            <Profile view={view} run={run} host={host} onProfile={onProfile} />
          </Section>
          <Section title="Relays" hint="Writer syncs through the first relay on this list that answers, and moves down the list when one is unreachable.">
            <p className={`sync-line sync-${status.tone}`} data-testid="settings-sync-status">
              {status.text}
              {status.detail && <span className="sync-detail"> {status.detail}</span>}
            </p>
            {view.secrets.weakness && (
              <p className="settings-warning" role="note">
                {view.secrets.weakness}
              </p>
            )}
            {view.relayTrust && (
              <p className="settings-warning" role="note" data-testid="relay-trust">
                {view.relayTrust}
              </p>
            )}
            <RelayList relays={view.relays} host={host} run={run} />
            <AddRelay host={host} run={run} />
          </Section>
          <Section title="This library on another device" hint="Copy this link, then paste it on your other computer under “Use a library from another device”.">
            <CopyField label="Library link" value={view.libraryUrl} />
            <LinkLibrary host={host} onLinked={onLibraryLinked} />
          </Section>
        </div>
      )}
    </dialog>
  );
}

function Section({ title, hint, children }: { title: string; hint: string; children: ReactNode }) {
  return (
    <section className="settings-section">
      <h3>{title}</h3>
      <p className="settings-hint">{hint}</p>
      {children}
    </section>
  );
}

function Profile({ view, run, host, onProfile }: { view: SettingsView; run: (a: () => Promise<unknown>) => Promise<boolean>; host: HostClient; onProfile: (user: UserProfile) => void }) {
  const [name, setName] = useState(view.user.name);
  const save = async (color: string) => {
    const user = { name: name.trim() || view.user.name, color };
    if (await run(() => host.call("setProfile", user))) onProfile(user);
  };
  return (
    <div className="profile">
      <label className="field">
        <span>Name</span>
        <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} onBlur={() => name.trim() !== view.user.name && void save(view.user.color)} />
      </label>
      <div className="swatches" role="radiogroup" aria-label="Colour">
        {USER_COLORS.map((c) => (
          <button
            key={c}
            type="button"
            role="radio"
            aria-checked={c.toLowerCase() === view.user.color.toLowerCase()}
            aria-label={`Colour ${c}`}
            className="swatch"
            style={{ background: c }}
            onClick={() => void save(c)}
          />
        ))}
      </div>
    </div>
  );
}

function RelayList({ relays, host, run }: { relays: RelayInfo[]; host: HostClient; run: (a: () => Promise<unknown>) => Promise<boolean> }) {
  const [editing, setEditing] = useState<string | null>(null);
  if (relays.length === 0) return <p className="list-empty">No relays yet: your documents stay on this computer.</p>;
  return (
    <ol className="relay-list" aria-label="Relays, in order of preference">
      {relays.map((r, i) => (
        <li key={r.id} className="relay-row">
          <div className="relay-main">
            <span className="relay-name">{r.name}</span>
            <span className="relay-url">
              {r.url} · {r.hasToken ? "token saved" : "no token"}
            </span>
          </div>
          <div className="relay-actions">
            <button className="link-button" disabled={i === 0} aria-label={`Move ${r.name} up`} onClick={() => void run(() => host.call("moveRelay", { id: r.id, index: i - 1 }))}>
              ↑
            </button>
            <button className="link-button" disabled={i === relays.length - 1} aria-label={`Move ${r.name} down`} onClick={() => void run(() => host.call("moveRelay", { id: r.id, index: i + 1 }))}>
              ↓
            </button>
            <button className="link-button" onClick={() => setEditing(editing === r.id ? null : r.id)}>
              {editing === r.id ? "Cancel" : "New token"}
            </button>
            <button className="link-button danger" onClick={() => void run(() => host.call("removeRelay", { id: r.id }))}>
              Remove
            </button>
          </div>
          {editing === r.id && (
            <TokenForm
              relayUrl={r.url}
              onSubmit={async (token) => {
                if (await run(() => host.call("updateRelay", { id: r.id, token }))) setEditing(null);
              }}
            />
          )}
        </li>
      ))}
    </ol>
  );
}

function TokenForm({ relayUrl, onSubmit }: { relayUrl: string; onSubmit: (token: string | null) => Promise<void> }) {
  const [entry, setEntry] = useState<NewTokenEntry>({ token: "", fromInvite: false });
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit(entry.token.trim() || null);
      }}
    >
      <input
        type="password"
        aria-label="New token"
        placeholder={entry.fromInvite ? "From the invite" : "Paste the new token or an invite (empty for none)"}
        // A token from an invite is never put back in the page's field.
        value={entry.fromInvite ? "" : entry.token}
        onChange={(e) => setEntry(enterNewToken(relayUrl, e.target.value))}
        autoComplete="off"
        aria-invalid={entry.error ? true : undefined}
      />
      <button type="submit" className="primary small">
        Save token
      </button>
      {entry.error && (
        <p className="field-error" role="alert">
          {entry.error}
        </p>
      )}
    </form>
  );
}

function AddRelay({ host, run }: { host: HostClient; run: (a: () => Promise<unknown>) => Promise<boolean> }) {
  const empty: RelayFields = { url: "", name: "", token: "", noToken: false, invite: null };
  const [fields, setFields] = useState<RelayFields>(empty);
  const [errors, setErrors] = useState<RelayFieldErrors>({});
  const set = (patch: Partial<RelayFields>) => {
    setFields((f) => ({ ...f, ...patch }));
    // A field's error goes once the writer changes that field.
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !(k in patch) && !(k === "token" && "noToken" in patch))));
  };
  /**
   * Address and Token both take an invite link (relayInvite.ts) in one paste: the form
   * then holds the relay's address and, out of sight, its token. What the writer pasted
   * never stays in a field as it is, so the token does not show.
   */
  const enter = (field: "url" | "token", entry: RelayFieldEntry) => {
    setFields(entry.fields);
    setErrors((e) => {
      const kept: RelayFieldErrors = Object.fromEntries(Object.entries(e).filter(([k]) => k !== field && !(entry.fields.invite && (k === "url" || k === "token"))));
      return entry.error ? { ...kept, [field]: entry.error } : kept;
    });
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = relayFieldErrors(fields);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      const first = Object.keys(found)[0];
      (e.currentTarget as HTMLFormElement).querySelector<HTMLInputElement>(`[name="${first}"]`)?.focus();
      return;
    }
    const { url, name, token, noToken } = fields;
    const ok = await run(() => host.call("addRelay", { name: name.trim() || hostName(url), url: url.trim(), token: noToken ? null : token.trim() }));
    if (ok) setFields(empty);
  };
  const error = (field: keyof RelayFieldErrors) =>
    errors[field] ? (
      <p className="field-error" id={`add-relay-${field}-error`} role="alert">
        {errors[field]}
      </p>
    ) : null;
  const invalid = (field: keyof RelayFieldErrors) => (errors[field] ? { "aria-invalid": true, "aria-describedby": `add-relay-${field}-error` } : {});
  return (
    <form className="add-relay" onSubmit={(e) => void submit(e)} aria-label="Add a relay" noValidate>
      <label className="field">
        <span>Address</span>
        <input
          name="url"
          aria-label="Address"
          value={fields.url}
          onChange={(e) => enter("url", enterAddress(fields, e.target.value))}
          placeholder="wss://relay.example.org, or an invite link"
          autoComplete="off"
          spellCheck={false}
          {...invalid("url")}
        />
        {error("url")}
      </label>
      <label className="field">
        <span>Name</span>
        <input name="name" aria-label="Name" value={fields.name} onChange={(e) => set({ name: e.target.value })} placeholder={hostName(fields.url) || "Team relay"} {...invalid("name")} />
        {error("name")}
      </label>
      <label className="field">
        <span>Token</span>
        <input
          name="token"
          aria-label="Token"
          type="password"
          // A token from an invite is never put back in the page's fields: "From the invite" says where it is.
          value={fields.invite ? "" : fields.token}
          disabled={fields.noToken}
          onChange={(e) => enter("token", enterToken(fields, e.target.value))}
          placeholder={fields.noToken ? "None" : fields.invite ? "From the invite" : "From the relay's administrator"}
          autoComplete="off"
          {...invalid("token")}
        />
        {error("token")}
      </label>
      <label className="check">
        <input type="checkbox" checked={fields.noToken} onChange={(e) => set({ noToken: e.target.checked, ...(e.target.checked ? { token: "", invite: null } : {}) })} />
        <span>This relay takes no token (a development relay)</span>
      </label>
      <button type="submit" className="primary small">
        Add relay
      </button>
    </form>
  );
}

function LinkLibrary({ host, onLinked }: { host: HostClient; onLinked: () => void }) {
  const [link, setLink] = useState("");
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const read = readDocumentLink(link);
    if ("problem" in read) {
      setState({ busy: false, error: read.problem.replace("document ID", "library ID") });
      return;
    }
    const url = read.url;
    setState({ busy: true, error: null });
    try {
      await host.call("linkLibrary", { url });
      onLinked();
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  };
  return (
    <form className="inline-form" onSubmit={(e) => void submit(e)}>
      <label className="field grow">
        <span>Use a library from another device</span>
        <input value={link} onChange={(e) => setLink(e.target.value)} placeholder="automerge:…" autoComplete="off" spellCheck={false} />
      </label>
      <button type="submit" className="primary small" disabled={state.busy}>
        {state.busy ? "Linking…" : "Link"}
      </button>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
    </form>
  );
}

/** A read-only value with a Copy button; the text stays selectable where copying is refused. */
function CopyField({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="copy-field">
      <label className="field grow">
        <span>{label}</span>
        <input readOnly value={value} onFocus={(e) => e.target.select()} spellCheck={false} />
      </label>
      <button
        type="button"
        className="small secondary"
        onClick={() =>
          void navigator.clipboard.writeText(value).then(
            () => {
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            },
            () => undefined,
          )
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

function hostName(url: string): string {
  try {
    return new URL(url.trim()).hostname;
  } catch {
    return "";
  }
}
