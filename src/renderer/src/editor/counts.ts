import type { Node as PMNode } from "prosemirror-model";
import { countText, type TextCounts } from "../../../shared/counts";
import { acceptedText } from "../../../shared/suggestions";

/**
 * Counts per text block, kept by node: ProseMirror reuses every node a transaction
 * does not touch, so after a keystroke only the edited block is counted again and a
 * novel's count costs a walk over its blocks, not over its text.
 */
const cache = new WeakMap<PMNode, TextCounts>();

export function countDocument(doc: PMNode): TextCounts {
  let words = 0;
  let characters = 0;
  doc.descendants((node) => {
    if (!node.isTextblock) return true;
    let counts = cache.get(node);
    if (!counts) {
      // Counted as if every suggestion were accepted: struck text is on its way out.
      counts = countText(acceptedText(node));
      cache.set(node, counts);
    }
    words += counts.words;
    characters += counts.characters;
    return false;
  });
  return { words, characters };
}
