import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { policyFiles, updatePolicy, updateQuestion } from "../../../src/main/updates";

/** Updates are on in a release, off in development, and off when an organisation says so. */
describe("update policy", () => {
  const packaged = { packaged: true, env: {}, policies: [] };

  it("is on in a packaged app with no policy, off in development", () => {
    expect(updatePolicy(packaged)).toEqual({ enabled: true });
    expect(updatePolicy({ ...packaged, packaged: false })).toEqual({ enabled: false, why: "a development build does not update itself" });
  });

  it("is off when WRITER_UPDATES says so, in any of the usual words", () => {
    for (const word of ["off", "OFF", "0", "false", "no", " never "]) expect(updatePolicy({ ...packaged, env: { WRITER_UPDATES: word } }).enabled).toBe(false);
    expect(updatePolicy({ ...packaged, env: { WRITER_UPDATES: "on" } }).enabled).toBe(true);
  });

  it("follows a policy file, and a policy file that cannot be read turns updates off, naming it", () => {
    const file = "/etc/writer/policy.json";
    expect(updatePolicy({ ...packaged, policies: [{ file, text: '{"updates": false}' }] })).toEqual({ enabled: false, why: `turned off by the policy file ${file}` });
    expect(updatePolicy({ ...packaged, policies: [{ file, text: '{"updates": true}' }] })).toEqual({ enabled: true });
    expect(updatePolicy({ ...packaged, policies: [{ file, text: "{}" }] })).toEqual({ enabled: true });
    for (const text of ["updates: false", "[]", "null", '{"updates": "no"}', '{"updates": 0}']) {
      const decision = updatePolicy({ ...packaged, policies: [{ file, text }] });
      expect(decision.enabled, text).toBe(false);
      expect(decision.enabled === false && decision.why).toContain(file);
    }
  });

  it("whatever a policy file holds, never throws, and is on only for true or no say", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const decision = updatePolicy({ ...packaged, policies: [{ file: "p.json", text }] });
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return decision.enabled === false;
        }
        const said = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as { updates?: unknown }).updates : "not an object";
        return decision.enabled === (said === true || said === undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it("looks beside the executable first, then in the system's place", () => {
    expect(policyFiles("linux", "/opt/Writer/writer", {})).toEqual(["/opt/Writer/writer-policy.json", "/etc/writer/policy.json"]);
    expect(policyFiles("darwin", "/Applications/Writer.app/Contents/MacOS/Writer", {})).toEqual(["/Applications/Writer.app/Contents/MacOS/writer-policy.json", "/Library/Application Support/Writer/policy.json"]);
    expect(policyFiles("win32", "/Program Files/Writer/Writer.exe", { ProgramData: "D:\\ProgramData" })[1]).toBe("D:\\ProgramData\\Writer\\policy.json");
  });
});

describe("the question before restarting for an update", () => {
  it("leaves the choice to the writer: Later is the default and what Escape means", () => {
    const q = updateQuestion("1.4.0");
    expect(q.message).toBe("Writer 1.4.0 is ready.");
    expect(q.buttons[q.defaultId]).toBe("Later");
    expect(q.buttons[q.cancelId]).toBe("Later");
    expect(q.buttons[0]).toBe("Restart now");
  });

  it("does not put a feed's odd version string in front of the writer", () => {
    expect(updateQuestion("1.0.0\n\nClick here: evil.example").message).toBe("A new version of Writer is ready.");
  });
});
