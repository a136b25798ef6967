import fs from "node:fs/promises";
import * as z from "zod";
import { writeFileAtomic } from "../node/atomicFile";

/**
 * How secrets are sealed before they touch the disk. Electron's main process passes
 * one built on `safeStorage` (the OS keychain); the host itself never imports
 * Electron, so tests and the browser shell pass another.
 */
export interface SecretCipher {
  /** Shown in logs and settings, e.g. "gnome_libsecret", "keychain", "plain text". */
  readonly backend: string;
  /**
   * Why these secrets are not really protected, for the writer to read; null when
   * the OS keychain protects them.
   */
  readonly weakness: string | null;
  encrypt(plain: string): Uint8Array;
  decrypt(sealed: Uint8Array): string;
}

/** The browser shell and tests: no keychain, so say so rather than pretend. */
export function plainTextCipher(reason: string): SecretCipher {
  return {
    backend: "plain text",
    weakness: reason,
    encrypt: (plain) => new TextEncoder().encode(plain),
    decrypt: (sealed) => new TextDecoder().decode(sealed),
  };
}

const fileSchema = z.object({
  version: z.literal(1),
  backend: z.string(),
  secrets: z.record(z.string().regex(/^[a-z][a-z0-9:-]{0,80}$/), z.string().max(20_000)),
});

/** Thrown when a secret sealed by one backend cannot be opened by the current one. */
export class SecretUnreadableError extends Error {
  constructor(readonly secret: string, readonly reason: string) {
    super(`The saved secret "${secret}" could not be read (${reason}); enter it again.`);
  }
}

/**
 * Secrets (relay tokens) sealed by a SecretCipher, in one file of the data directory
 * readable by the owner only. Nothing here ever goes to the renderer: the host hands
 * out whether a secret exists, never its value.
 */
export class SecretStore {
  readonly #file: string;
  readonly #cipher: SecretCipher;
  #sealed: Record<string, string>;

  private constructor(file: string, cipher: SecretCipher, sealed: Record<string, string>) {
    this.#file = file;
    this.#cipher = cipher;
    this.#sealed = sealed;
  }

  static async open(file: string, cipher: SecretCipher, onProblem: (message: string) => void): Promise<SecretStore> {
    let raw: string | undefined;
    try {
      raw = await fs.readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    let sealed: Record<string, string> = {};
    if (raw !== undefined) {
      const parsed = fileSchema.safeParse(safeJson(raw));
      if (parsed.success) {
        sealed = { ...parsed.data.secrets };
      } else {
        // Never delete what we cannot read: keep it aside and start empty.
        const aside = `${file}.unreadable-${Date.now()}`;
        await fs.rename(file, aside);
        onProblem(`The secrets file ${file} could not be read; kept it as ${aside}. Enter your relay tokens again.`);
      }
    }
    return new SecretStore(file, cipher, sealed);
  }

  get backend(): string {
    return this.#cipher.backend;
  }

  get weakness(): string | null {
    return this.#cipher.weakness;
  }

  has(name: string): boolean {
    return Object.hasOwn(this.#sealed, name);
  }

  get(name: string): string | null {
    const sealed = Object.hasOwn(this.#sealed, name) ? this.#sealed[name] : undefined;
    if (sealed === undefined) return null;
    try {
      return this.#cipher.decrypt(Buffer.from(sealed, "base64"));
    } catch (error) {
      throw new SecretUnreadableError(name, (error as Error).message);
    }
  }

  async set(name: string, value: string): Promise<void> {
    this.#sealed = { ...this.#sealed, [name]: Buffer.from(this.#cipher.encrypt(value)).toString("base64") };
    await this.#save();
  }

  async delete(name: string): Promise<void> {
    if (!this.has(name)) return;
    const { [name]: _gone, ...rest } = this.#sealed;
    this.#sealed = rest;
    await this.#save();
  }

  async #save(): Promise<void> {
    await writeFileAtomic(this.#file, JSON.stringify({ version: 1, backend: this.#cipher.backend, secrets: this.#sealed }, null, 2) + "\n", 0o600);
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
