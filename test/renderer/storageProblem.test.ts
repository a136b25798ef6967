import { describe, expect, it } from "vitest";
import type { StorageProblem } from "../../src/shared/api";
import { describeStorage } from "../../src/renderer/src/storageProblem";

const full: StorageProblem = { kind: "write-failed", documentUrl: "automerge:abc", message: "Could not save to disk: the disk is full. Your changes are kept and saving is retried.", at: 1 };
const damaged: StorageProblem = { kind: "corrupt-chunk", documentUrl: "automerge:abc", message: "Part of “Moby-Dick” (automerge:abc) was damaged on disk (checksum mismatch). …", at: 2 };

describe("what the storage banner says", () => {
  it("says nothing while all is well", () => {
    expect(describeStorage({ storageOk: true, problems: [] })).toBeNull();
  });

  it("says the disk cannot be written while it cannot, and cannot be dismissed then (F9)", () => {
    expect(describeStorage({ storageOk: false, problems: [full] })).toEqual({ headline: "Cannot save to disk.", message: full.message, dismissible: false });
    // Dismissing earlier problems does not hide a disk that is failing now.
    expect(describeStorage({ storageOk: false, problems: [full] }, 1)).toMatchObject({ headline: "Cannot save to disk." });
    // A damaged file found meanwhile does not hide that saving still fails.
    expect(describeStorage({ storageOk: false, problems: [full, damaged] })).toMatchObject({ headline: "Cannot save to disk.", message: full.message });
  });

  it("says saving works again once it does, until dismissed", () => {
    expect(describeStorage({ storageOk: true, problems: [full] })).toEqual({ headline: "Saving failed earlier; it works again.", message: full.message, dismissible: true });
    expect(describeStorage({ storageOk: true, problems: [full] }, 1)).toBeNull();
  });

  it("names the damaged document (F8)", () => {
    expect(describeStorage({ storageOk: true, problems: [damaged] })).toEqual({ headline: "A damaged file was set aside.", message: damaged.message, dismissible: true });
  });
});
