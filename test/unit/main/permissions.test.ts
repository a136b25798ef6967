import { describe, expect, it } from "vitest";
import { grantPermissionRequest, passPermissionCheck } from "../../../src/main/permissions";

describe("what the page may ask Electron for", () => {
  it.each(["media", "geolocation", "notifications", "midi", "midiSysex", "clipboard-read", "fullscreen", "openExternal", "pointerLock", "hid", "serial", "usb", "display-capture", "idle-detection", "unknown"])(
    "refuses %s, asked or checked",
    (permission) => {
      expect(grantPermissionRequest(permission)).toBe(false);
      expect(passPermissionCheck(permission)).toBe(false);
    },
  );

  it("lets it write plain text to the clipboard (Copy link to share), and nothing more", () => {
    expect(grantPermissionRequest("clipboard-sanitized-write")).toBe(true);
    expect(passPermissionCheck("clipboard-sanitized-write")).toBe(true);
  });
});
