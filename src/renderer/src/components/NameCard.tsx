/**
 * First use: the name others will see on the writer's caret and in the history, asked
 * for rather than taken from the operating system, whose login may be "root". Suggests
 * the system's full name, never a bare login; stays until the writer saves a name, and
 * can be changed in Settings later. It does not block writing.
 */
import { useState, type FormEvent } from "react";
import type { UserProfile } from "../../../shared/api";
import type { HostClient } from "../hostClient";

export function NameCard({ host, user, suggested, onSaved }: { host: HostClient; user: UserProfile; suggested: string; onSaved: (user: UserProfile) => void }) {
  const [name, setName] = useState(suggested);
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setState({ busy: false, error: "Type the name others should see." });
      return;
    }
    setState({ busy: true, error: null });
    try {
      const next = { name: trimmed.slice(0, 80), color: user.color };
      await host.call("setProfile", next);
      onSaved(next);
    } catch (err) {
      setState({ busy: false, error: (err as Error).message });
    }
  };
  return (
    <form className="name-card" aria-label="Your name" onSubmit={(e) => void submit(e)}>
      <label className="field">
        <span>What name should others see?</span>
        <input value={name} maxLength={80} placeholder="Your name" autoComplete="name" onChange={(e) => (setName(e.target.value), setState({ busy: false, error: null }))} />
      </label>
      <p className="settings-hint">It is shown on your cursor and in the history of documents you share. You can change it in Settings.</p>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
      <button type="submit" className="primary small" disabled={state.busy}>
        Save my name
      </button>
    </form>
  );
}
