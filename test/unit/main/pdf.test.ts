import { describe, expect, it } from "vitest";
import { pdfFileName, PDF_OPTIONS } from "../../../src/main/pdf";

describe("Export as PDF (src/main/pdf.ts)", () => {
  it("names the file after the title, without characters file systems refuse", () => {
    expect(pdfFileName("Logbook: night 41")).toBe("Logbook night 41.pdf");
    expect(pdfFileName("")).toBe("Untitled.pdf");
    expect(pdfFileName("../../etc/passwd")).toBe(".. .. etc passwd.pdf");
  });

  it("refuses a request that is not a title", () => {
    expect(pdfFileName(undefined)).toBeNull();
    expect(pdfFileName({ title: "x" })).toBeNull();
    expect(pdfFileName("x".repeat(501))).toBeNull();
  });

  it("prints A4 with margins and no app background", () => {
    expect(PDF_OPTIONS.pageSize).toBe("A4");
    expect(PDF_OPTIONS.printBackground).toBe(false);
  });
});
