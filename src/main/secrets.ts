import { safeStorage } from "electron";
import type { SecretCipher } from "../host/secrets";

/**
 * Relay tokens sealed by the OS keychain through Electron's safeStorage. On Linux
 * without a keyring, Electron falls back to `basic_text` (a hard-coded key); tokens
 * are then no better than plain text, and the settings tell the writer so.
 */
export function safeStorageCipher(): SecretCipher {
  const backend = process.platform === "linux" ? safeStorage.getSelectedStorageBackend() : process.platform === "darwin" ? "keychain" : "dpapi";
  const available = safeStorage.isEncryptionAvailable();
  const weak = !available || backend === "basic_text" || backend === "unknown";
  return {
    backend,
    weakness: weak
      ? "Your system has no keyring (such as GNOME Keyring or KWallet), so relay tokens are protected only by a key built into Writer. Install a keyring to protect them."
      : null,
    encrypt: (plain) => (available ? safeStorage.encryptString(plain) : new TextEncoder().encode(plain)),
    decrypt: (sealed) => (available ? safeStorage.decryptString(Buffer.from(sealed)) : new TextDecoder().decode(sealed)),
  };
}
