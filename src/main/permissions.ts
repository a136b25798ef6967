/**
 * What the page may ask Electron for. Electron grants permission requests
 * (camera, microphone, notifications, geolocation, reading the clipboard, MIDI, HID...)
 * by default; Writer's page needs one of them: writing plain text to the clipboard
 * ("Copy link to share"). Everything else is refused, asked or checked. (Spell checking
 * is not a permission and is not affected.) Kept apart from index.ts (no Electron
 * import) so that it is unit-tested without Electron.
 */

/** The permissions the page is granted. */
const GRANTED: ReadonlySet<string> = new Set(["clipboard-sanitized-write"]);

/** Whether a permission request from the page is granted (setPermissionRequestHandler). */
export function grantPermissionRequest(permission: string): boolean {
  return GRANTED.has(permission);
}

/** Whether a permission check from the page succeeds (setPermissionCheckHandler). */
export function passPermissionCheck(permission: string): boolean {
  return GRANTED.has(permission);
}
