/**
 * `A.updateSpans` that ends with the spans it was given.
 *
 * Why: Automerge 3.5's `updateSpans` can leave a block marker with the wrong value when
 * a block changes type and gains a parent in the same update: turning a quoted
 * paragraph into a heading gave the heading the parents ["paragraph"] instead of
 * ["blockquote"], a structure the editor cannot render (found by the P1 property test
 * once its editor windows stayed open). The text and the markers' positions come out
 * right; only marker values can be wrong. So each marker is compared with the one asked
 * for afterwards and set right with `A.updateBlock` where they differ. The binding's
 * own updateSpans calls get the same correction (patches/README.md).
 */
import { next as A } from "@automerge/automerge/slim";

type Config = Parameters<typeof A.updateSpans>[3];

export function updateSpansExactly(doc: A.Doc<unknown>, path: A.Prop[], spans: A.Span[], config?: Config): void {
  A.updateSpans(doc, path, spans, config);
  let index = 0;
  for (const span of spans) {
    if (span.type === "text") {
      index += span.value.length;
      continue;
    }
    const got = A.block(doc, path, index);
    if (!got || blockKey(got) !== blockKey(span.value)) A.updateBlock(doc, path, index, span.value);
    index += 1;
  }
}

/** A block's value as a comparable string: immutable strings as strings, keys sorted. */
function blockKey(value: unknown): string {
  const b = value as { type?: unknown; parents?: unknown; attrs?: unknown; isEmbed?: unknown };
  // A marker written without isEmbed reads back without it: the same as false.
  return JSON.stringify({ type: b.type, parents: b.parents ?? [], attrs: b.attrs ?? {}, isEmbed: b.isEmbed === true }, (_key, v: unknown) => {
    if (v instanceof A.ImmutableString) return v.toString();
    if (v && typeof v === "object" && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
    return v;
  });
}
