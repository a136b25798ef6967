import fs from "node:fs/promises";
import os from "node:os";
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { colorSchema, documentUrlSchema, relayUrlSchema } from "../shared/api";
import { writeFileAtomic } from "../node/atomicFile";
import { USER_COLORS } from "../shared/colors";


const settingsSchema = z.object({
  version: z.literal(1),
  libraryUrl: documentUrlSchema.nullable(),
  lastOpened: documentUrlSchema.nullable(),
  user: z.object({ name: z.string().min(1).max(80), color: colorSchema }),
  /** Relays in the writer's order of preference; their tokens live in the SecretStore. */
  relays: z
    .array(z.object({ id: z.string().regex(/^[a-z0-9]{8,32}$/), name: z.string().min(1).max(80), url: relayUrlSchema }))
    .max(20)
    .default([]),
});

/** Per-machine settings. Secrets never live here (they go to the OS keychain). */
export type Settings = z.infer<typeof settingsSchema>;

export function defaultSettings(): Settings {
  let name = "Writer";
  try {
    name = os.userInfo().username || name;
  } catch {
    // Some sandboxes have no passwd entry for the user; a plain name will do.
  }
  const color = USER_COLORS[randomBytes(1)[0]! % USER_COLORS.length]!;
  return { version: 1, libraryUrl: null, lastOpened: null, user: { name, color }, relays: [] };
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
export async function saveSettings(file: string, settings: Settings): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(settingsSchema.parse(settings), null, 2) + "\n");
}
