/**
 * Updates: whether this copy of Writer looks for new releases, and what it asks the
 * writer once one is downloaded. Plain functions, tested without Electron
 * (test/unit/main/updates.test.ts); src/main/index.ts wires them to electron-updater.
 *
 * Off in development (an unpackaged app), and off when an organisation says so: the
 * WRITER_UPDATES environment variable set to "off", or a policy file with
 * `{ "updates": false }` beside the executable or in the system's place for it. A policy
 * file that cannot be read as such also turns updates off: whoever put it there meant a
 * policy, and a broken one must not silently mean "on".
 */
import path from "node:path";

export type UpdateDecision = { enabled: true } | { enabled: false; why: string };

/** The policy files an organisation may use, most specific first. */
export function policyFiles(platform: NodeJS.Platform, execPath: string, env: NodeJS.ProcessEnv): string[] {
  const beside = path.join(path.dirname(execPath), "writer-policy.json");
  if (platform === "win32") return [beside, path.win32.join(env.ProgramData ?? "C:\\ProgramData", "Writer", "policy.json")];
  if (platform === "darwin") return [beside, "/Library/Application Support/Writer/policy.json"];
  return [beside, "/etc/writer/policy.json"];
}

/**
 * Whether to look for updates. `policies` are the policy files that exist, with their
 * contents, in the order policyFiles gives.
 */
export function updatePolicy(situation: { packaged: boolean; env: NodeJS.ProcessEnv; policies: { file: string; text: string }[] }): UpdateDecision {
  if (!situation.packaged) return { enabled: false, why: "a development build does not update itself" };
  const variable = situation.env.WRITER_UPDATES?.trim().toLowerCase();
  if (variable && ["off", "0", "false", "no", "never"].includes(variable)) return { enabled: false, why: `turned off by WRITER_UPDATES=${situation.env.WRITER_UPDATES}` };
  for (const { file, text } of situation.policies) {
    let policy: unknown;
    try {
      policy = JSON.parse(text);
    } catch {
      return { enabled: false, why: `turned off: the policy file ${file} is not JSON` };
    }
    if (!policy || typeof policy !== "object" || Array.isArray(policy)) return { enabled: false, why: `turned off: the policy file ${file} is not an object` };
    const updates = (policy as { updates?: unknown }).updates;
    if (updates === false) return { enabled: false, why: `turned off by the policy file ${file}` };
    if (updates !== undefined && updates !== true) return { enabled: false, why: `turned off: "updates" in the policy file ${file} is neither true nor false` };
  }
  return { enabled: true };
}

/** How often a running Writer looks for a new release. */
export const UPDATE_CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;

/**
 * The question once a new version is downloaded: restarting is the writer's choice,
 * never made for them ("Later" is the default and what Escape means); if they say later,
 * it is installed when Writer quits.
 */
export function updateQuestion(version: string): { type: "info"; title: string; message: string; detail: string; buttons: string[]; defaultId: number; cancelId: number; noLink: true } {
  const safeVersion = /^[0-9A-Za-z.+-]{1,40}$/.test(version) ? version : "A new version";
  return {
    type: "info",
    title: "Update ready",
    message: safeVersion === "A new version" ? "A new version of Writer is ready." : `Writer ${safeVersion} is ready.`,
    detail: "Restart Writer now to use it? Everything you wrote is saved first. If you restart later, the new version is installed when you quit.",
    buttons: ["Restart now", "Later"],
    defaultId: 1,
    cancelId: 1,
    noLink: true,
  };
}
