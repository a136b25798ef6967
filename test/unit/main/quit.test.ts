import { describe, expect, it } from "vitest";
import { quitQuestion } from "../../../src/main/quit";

/** The writer is asked before quitting only when changes have not reached the disk. */
describe("quitting", () => {
  it("asks nothing when everything is on disk, even with old problems listed", () => {
    expect(quitQuestion({ storageOk: true, problems: [] })).toBeNull();
    expect(quitQuestion({ storageOk: true, problems: [{ kind: "corrupt-chunk", documentUrl: null, message: "Part of “A” was damaged", at: 1 }] })).toBeNull();
  });

  it("warns while saves are failing, says why, and keeps Writer open unless told otherwise", () => {
    const q = quitQuestion({
      storageOk: false,
      problems: [
        { kind: "write-failed", documentUrl: null, message: "Writer cannot save: the disk is full.", at: 1 },
        { kind: "corrupt-chunk", documentUrl: null, message: "damaged", at: 2 },
      ],
    })!;
    expect(q.message).toBe("Some of your changes are not on the disk yet.");
    expect(q.detail).toContain("the disk is full");
    expect(q.buttons[q.defaultId]).toBe("Keep Writer Open");
    expect(q.cancelId).toBe(q.defaultId);
    expect(q.buttons).toContain("Quit and Lose Them");
  });
});
