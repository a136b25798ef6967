/**
 * The browser shell's credential. `npm run web` prints a URL with a token;
 * the page keeps that token in sessionStorage, which belongs to this origin alone
 * (scheme, host and port), takes it out of the address bar, and sends it with every
 * request to the host. A cookie would not do: cookies are per host, not per port, so
 * every other local server on 127.0.0.1 would receive it. Not used in Electron.
 */
const KEY = "writer-shell-token";

let token: string | null | undefined;

/** The shell's token: from the opening URL (then kept), or from this tab's storage. */
export function shellToken(): string | null {
  if (token !== undefined) return token;
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    token = given;
  } else {
    token = sessionStorage.getItem(KEY);
  }
  return token;
}

/** Headers for a call to the shell's /api. */
export function shellHeaders(): Record<string, string> {
  const t = shellToken();
  return { "Content-Type": "application/json", ...(t ? { Authorization: `Bearer ${t}` } : {}) };
}
