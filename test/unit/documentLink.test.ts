import { describe, expect, it } from "vitest";
import { readDocumentLink } from "../../src/shared/documentLink";

const good = "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu";

describe("reading a pasted document link", () => {
  it("finds the link alone or in a message", () => {
    expect(readDocumentLink(good)).toEqual({ url: good });
    expect(readDocumentLink(`Here it is: ${good}. See you!`)).toEqual({ url: good });
  });

  it("says what is wrong with the link itself", () => {
    expect(readDocumentLink("automerge:notarealid")).toEqual({ problem: "“notarealid” is not a document ID: IDs never contain “l”. Copy the link again rather than typing it." });
    expect(readDocumentLink("automerge:4NMNnkMhL8")).toMatchObject({ problem: expect.stringMatching(/too short/) as string });
    expect(readDocumentLink(good.slice(0, -1) + "v")).toMatchObject({ problem: expect.stringMatching(/damaged/) as string });
    expect(readDocumentLink("automerge:")).toMatchObject({ problem: expect.stringMatching(/ID is missing/) as string });
    expect(readDocumentLink("https://example.org/doc")).toMatchObject({ problem: expect.stringMatching(/web address/) as string });
    expect(readDocumentLink("hello")).toMatchObject({ problem: expect.stringMatching(/not a Writer link/) as string });
  });
});
