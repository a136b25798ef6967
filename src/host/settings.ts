import fs from "node:fs/promises";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import os from "node:os";
import { randomBytes } from "node:crypto";
import * as z from "zod";
import { colorSchema, documentUrlSchema, relayUrlSchema } from "../shared/api";
import { writeFileAtomic } from "../node/atomicFile";
import { USER_COLORS } from "../shared/colors";


const settingsSchema = z.object({
  version: z.literal(1),
  libraryUrl: documentUrlSchema.nullable(),
  lastOpened: documentUrlSchema.nullable(),
  user: z.object({
    name: z.string().min(1).max(80),
    color: colorSchema,
    /** The writer chose this name (until then the app asks); older files, without it, have not. */
    confirmed: z.boolean().default(false),
  }),
  /** This writer, across renames and windows: names in history follow it (absent in older files). */
  writerId: z
    .string()
    .regex(/^[0-9a-f]{16}$/)
    .default(() => randomBytes(8).toString("hex")),
  /**
   * Shared links opened whose documents have not arrived yet: nothing is added to the
   * library until they do, and the host keeps asking for them, across restarts.
   */
  wanted: z.array(documentUrlSchema).max(100).default([]),
  /** Relays in the writer's order of preference; their tokens live in the SecretStore. */
  relays: z
    .array(z.object({ id: z.string().regex(/^[a-z0-9]{8,32}$/), name: z.string().min(1).max(80), url: relayUrlSchema }))
    .max(20)
    .default([]),
});

/** Per-machine settings. Secrets never live here (they go to the OS keychain). */
export type Settings = z.infer<typeof settingsSchema>;

export function defaultSettings(): Settings {
  const color = USER_COLORS[randomBytes(1)[0]! % USER_COLORS.length]!;
  // Until the writer says, others see the operating system's full name, never a bare
  // login ("root"): "Writer" when there is no full name.
  const name = osFullName() || "Writer";
  return { version: 1, libraryUrl: null, lastOpened: null, user: { name, color, confirmed: false }, writerId: randomBytes(8).toString("hex"), wanted: [], relays: [] };
}

/**
 * The user's full name as the operating system knows it (the passwd entry's comment on
 * Linux, `id -F` on a Mac), or "" when there is none or it is only the login name.
 */
export function osFullName(): string {
  let login = "";
  let full = "";
  try {
    const info = os.userInfo();
    login = info.username;
    if (process.platform === "darwin") full = execFileSync("id", ["-F"], { encoding: "utf8", timeout: 2000 }).trim();
    else if (process.platform !== "win32") {
      const line = readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => l.split(":")[2] === String(info.uid));
      full = (line?.split(":")[4] ?? "").split(",")[0]!.trim();
    }
  } catch {
    // No passwd entry (some sandboxes), no `id`: no suggestion.
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  full = full.replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 80);
  return full && full.toLowerCase() !== login.toLowerCase() ? full : "";
}

/**
 * Reads settings, or returns defaults when there are none. A file that does not parse
 * is kept aside (never deleted) and reported through `onProblem`.
 */
export async function loadSettings(file: string, onProblem: (message: string) => void): Promise<Settings> {
  let raw: string;
  try {
    raw = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return defaultSettings();
    throw error;
  }
  try {
    return settingsSchema.parse(JSON.parse(raw));
  } catch (error) {
    const aside = `${file}.unreadable-${Date.now()}`;
    await fs.rename(file, aside);
    // The library's address is what ties the writer to their documents: salvage it
    // from the damaged file whenever it is still legible there.
    const settings = defaultSettings();
    const salvaged = /"libraryUrl"\s*:\s*"(automerge:[1-9A-HJ-NP-Za-km-z]{20,60})"/.exec(raw)?.[1] ?? null;
    settings.libraryUrl = salvaged;
    onProblem(
      `Settings file ${file} could not be read (${(error as Error).message}); kept it as ${aside} and started with default settings` +
        (salvaged ? `, keeping your library ${salvaged}.` : "; your library's address could not be recovered from it."),
    );
    return settings;
  }
}

/** Writes settings atomically and durably (see writeFileAtomic). */
async function saveSettings(file: string, settings: Settings): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(settingsSchema.parse(settings), null, 2) + "\n");
}

/** The host's settings in memory and on disk: every change is written before it returns. */
export class SettingsFile {
  readonly #file: string;
  #settings: Settings;

  constructor(file: string, settings: Settings) {
    this.#file = file;
    this.#settings = settings;
  }

  get current(): Readonly<Settings> {
    return this.#settings;
  }

  async update(patch: Partial<Settings>): Promise<void> {
    this.#settings = { ...this.#settings, ...patch };
    await saveSettings(this.#file, this.#settings);
  }
}
