import path from "node:path";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { isValidAutomergeUrl } from "@automerge/automerge-repo";
import { requestSchema } from "../../../src/shared/api";
import { parseDesktopCommand, MENU_COMMANDS } from "../../../src/shared/desktopCommands";
import { pdfFileName } from "../../../src/main/pdf";
import { linkToOpenOutside } from "../../../src/main/window";

/**
 * What crosses between the page and main, fuzzed over hostile input: the
 * page's calls into the host (each validated by the shared schema), its PDF request,
 * main's commands to the page, and the links the page asks to open outside. Never a throw;
 * nothing passes that is not what it should be.
 */
const hostile = fc.oneof(
  fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true }),
  fc.record({ method: fc.oneof(fc.string(), fc.constantFrom("bootstrap", "createDocument", "openSharedDocument", "__proto__", "constructor")), url: fc.oneof(fc.string(), fc.webUrl()), title: fc.anything() }, { requiredKeys: [] }),
  fc.record({ command: fc.oneof(fc.string(), fc.constantFrom(...MENU_COMMANDS, "open-document", "open-file")), url: fc.anything(), name: fc.anything(), bytes: fc.anything() }, { requiredKeys: [] }),
);

describe("IPC payloads, fuzzed", () => {
  it("the host's request schema never throws, and what it accepts names a known method", () => {
    const methods = new Set(requestSchema.options.map((o) => o.shape.method.value));
    fc.assert(
      fc.property(hostile, (payload) => {
        const parsed = requestSchema.safeParse(payload);
        return !parsed.success || methods.has(parsed.data.method);
      }),
      { numRuns: 5000 },
    );
  });

  it("main's commands to the page: only a known command, a valid document link, or a backup by name", () => {
    fc.assert(
      fc.property(hostile, (payload) => {
        const command = parseDesktopCommand(payload);
        if (command === null) return true;
        if (command.command === "open-document") return isValidAutomergeUrl(command.url);
        if (command.command === "open-file") return /\.automerge$/i.test(command.name) && !/[/\\]/.test(command.name) && command.bytes instanceof Uint8Array;
        return (MENU_COMMANDS as readonly string[]).includes(command.command);
      }),
      { numRuns: 5000 },
    );
  });

  it("a PDF's name from the page is a plain file name, never a path", () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string(), fc.constantFrom("../../etc/passwd", "C:\\\\Windows\\\\x", "a/b", "\u0000", "..")), (payload) => {
        const name = pdfFileName(payload);
        // Joined to the documents folder as the save dialog's suggestion: one name in it.
        const controls = name !== null && [...name].some((c) => c.charCodeAt(0) < 32);
        return name === null || (!controls && name.endsWith(".pdf") && path.basename(name) === name && path.win32.basename(name) === name);
      }),
      { numRuns: 5000 },
    );
  });

  it("a link opened outside is http, https or mailto, whatever the page asks", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom("javascript:alert(1)", "file:///etc/passwd", "app://writer/index.html", "writer://open/x", "data:text/html,x", "#top", "JaVaScRiPt:x")), (url) => {
        const href = linkToOpenOutside(url);
        return href === null || /^(https?:|mailto:)/i.test(href);
      }),
      { numRuns: 5000 },
    );
    expect(linkToOpenOutside("javascript:alert(1)")).toBeNull();
    expect(linkToOpenOutside("https://example.org/")).toBe("https://example.org/");
  });
});
