/**
 * The Word round trip on random documents: any document made of what Word can hold
 * (headings, paragraphs, quotes, code, rules, nested lists, task lists, every mark,
 * links, suggestions by several writers) with comments on random ranges comes back
 * from export and import with the same structure, text, suggestions and comments.
 */
import { next as A } from "@automerge/automerge";
import { pmNodeToSpans } from "@automerge/prosemirror";
import fc from "fast-check";
import type { Mark, Node as PMNode } from "prosemirror-model";
import { describe, expect, it } from "vitest";
import { addComment, anchoredThreads } from "../../../src/shared/comments";
import { initDocument, TEXT_PATH, type WriterDocument } from "../../../src/shared/document";
import { applyDocxImport, commentsForDocx } from "../../../src/shared/convert/docx/document";
import { toDocx } from "../../../src/shared/convert/docx/export";
import { fromDocx } from "../../../src/shared/convert/docx/import";
import { horizontalRule, schema, schemaAdapter } from "../../../src/shared/editor/schema";
import { updateSpansExactly } from "../../../src/shared/spans";
import { T0, pmOf } from "./support";

const n = schema.nodes;
const m = schema.marks;
const WRITERS = ["Ada", "Bob Editor", "Chloé"];

const words = fc.constantFrom("whale", "sea ", " ", "a\tb", "ünï", "<&>", "“quoted”", "x");
const format = fc.subarray(["strong", "em", "underline", "strike", "code"]);
const suggestion = fc.option(fc.tuple(fc.constantFrom("insertion", "deletion"), fc.nat(2), fc.nat(1000)), { nil: null });
const link = fc.option(fc.constantFrom("https://example.com/a", "https://example.org/b?c=d"), { nil: null });

const textRun = fc.tuple(fc.array(words, { minLength: 1, maxLength: 3 }), format, link, suggestion).map(([ws, f, href, s]): PMNode => {
  const marks: Mark[] = f.map((name) => m[name]!.create());
  if (href) marks.push(m.link!.create({ href, title: null }));
  if (s) marks.push(m[s[0]]!.create({ id: `s${s[1]}-${s[2]}`, author: WRITERS[s[1]]!, writer: null, at: T0 + s[2] * 1000 }));
  return schema.text(ws.join(""), marks);
});
const inlines = fc.array(fc.oneof({ weight: 6, arbitrary: textRun }, { weight: 1, arbitrary: fc.constant(n.hard_break!.create()) }), { maxLength: 5 }).map((xs) => xs.filter((x, i) => !(x.type.name === "hard_break" && xs[i - 1]?.type.name === "hard_break")));
const paragraph = inlines.map((c) => n.paragraph!.create(null, c));
const heading = fc.tuple(fc.integer({ min: 1, max: 3 }), inlines).map(([level, c]) => n.heading!.create({ level }, c));
const code = fc.array(fc.constantFrom("let a = 1;", "  return a;", "x"), { minLength: 1, maxLength: 3 }).map((lines) => n.code_block!.create(null, schema.text(lines.join("\n"))));
const list: fc.Arbitrary<PMNode> = fc.letrec<{ list: PMNode }>((tie) => ({
  list: fc
    .tuple(fc.constantFrom("bullet_list", "ordered_list", "task_list"), fc.array(fc.tuple(paragraph, fc.boolean(), fc.option(tie("list"), { nil: null, depthSize: "small" })), { minLength: 1, maxLength: 3 }))
    .map(([kind, items]) =>
      n[kind]!.create(
        null,
        items.map(([p, checked, sub]) => (kind === "task_list" ? n.task_item!.create({ checked }, sub ? [p, sub] : [p]) : n.list_item!.create(null, sub ? [p, sub] : [p]))),
      ),
    ),
})).list;
const block = fc.oneof(
  { weight: 5, arbitrary: paragraph },
  { weight: 2, arbitrary: heading },
  { weight: 1, arbitrary: code },
  { weight: 1, arbitrary: fc.constant(null).map(() => horizontalRule()) },
  { weight: 1, arbitrary: fc.array(paragraph, { minLength: 1, maxLength: 2 }).map((ps) => n.blockquote!.create(null, ps)) },
  { weight: 2, arbitrary: list },
);

/** Word cannot tell two lists of one kind in a row, or two quotes or code blocks, from one: a paragraph goes between them. */
function separated(blocks: PMNode[]): PMNode[] {
  const out: PMNode[] = [];
  for (const b of blocks) {
    const prev = out[out.length - 1];
    if (prev && (prev.type === b.type || (prev.type.name.endsWith("_list") && b.type.name.endsWith("_list")))) out.push(n.paragraph!.create(null, schema.text("between")));
    out.push(b);
  }
  return out.length > 0 ? out : [n.paragraph!.create()];
}

/** What a trip through Word cannot keep: suggestion and writer IDs, and the binding's own bookkeeping of block markers. */
const DROPPED = new Set(["id", "writer", "isAmgBlock", "unknownAttrs"]);

function shape(doc: PMNode): unknown {
  return JSON.parse(JSON.stringify(doc.toJSON(), (key, value: unknown) => (DROPPED.has(key) ? undefined : value)));
}

describe("Word round trip on random documents", () => {
  it("keeps structure, text, suggestions and comments", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(block, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(2)), { maxLength: 3 }), async (blocks, spots) => {
        const pm = n.doc!.create(null, separated(blocks));
        const before = A.change(A.init<WriterDocument>({ actor: "aa".repeat(16) }), (d) => {
          initDocument(d, "Random", T0);
          updateSpansExactly(d, TEXT_PATH, pmNodeToSpans(schemaAdapter, pm));
          // Comments on visible characters (not block markers) between two random places.
          const chars = [...d.text].map((c, i) => (c === "\uFFFC" ? -1 : i)).filter((i) => i >= 0);
          spots.forEach(([a, b, who], i) => {
            if (chars.length === 0) return;
            const [x, y] = [chars[Math.floor(a * (chars.length - 1))]!, chars[Math.floor(b * (chars.length - 1))]!].sort((p, q) => p - q);
            addComment(d, { start: x!, end: y! + 1 }, `Note ${i}`, { name: WRITERS[who]!, writer: "w" }, T0 + i * 1000, `c${i}`);
          });
        });
        const pmBefore = pmOf(before);
        const parsed = fromDocx(await toDocx({ doc: pmBefore, title: "Random", comments: commentsForDocx(before, pmBefore) }));
        const after = A.change(A.init<WriterDocument>({ actor: "bb".repeat(16) }), (d) => {
          initDocument(d, parsed.title ?? "", T0);
          applyDocxImport(d, parsed, "Word");
        });
        expect(parsed.title).toBe("Random");
        expect(shape(pmOf(after))).toEqual(shape(pmBefore));
        const threads = (doc: WriterDocument) => anchoredThreads(doc).map(({ thread, range }) => [range ? doc.text.slice(range.start, range.end) : null, thread.messages.map((x) => `${x.author}: ${x.text}`)]);
        expect(threads(after)).toEqual(threads(before));
      }),
      { seed: Number(process.env.DOCX_SEED ?? 20261204), numRuns: Number(process.env.DOCX_RUNS ?? 25) },
    );
  }, 30_000 + 3000 * Number(process.env.DOCX_RUNS ?? 25));
});
