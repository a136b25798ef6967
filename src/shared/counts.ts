/** Word and character counts as a writer expects them. */
export interface TextCounts {
  words: number;
  characters: number;
}

// Unicode-aware: a word is a run of letters, digits, marks and inner apostrophes or
// hyphens, so "don't" and "well-known" are one word each and punctuation is none. It
// starts with a letter or digit: an emoji's variation selector (U+FE0F, a mark) is
// not a word.
const wordPattern = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:['’-][\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*/gu;

// A user-perceived character (a grapheme cluster, near enough): a flag (two regional
// indicators) or any character followed by what extends it: combining marks and
// variation selectors, emoji skin tones, tag characters, Hangul vowel and final jamo,
// and ZWJ sequences. Intl.Segmenter would be exact but takes seconds on a long
// document in V8; this regex takes milliseconds and agrees on the cases writers meet.
const characterPattern = /\p{RI}\p{RI}|(?:\r\n|[^])(?:[\p{M}\p{Emoji_Modifier}\u{E0020}-\u{E007F}\u1160-\u11FF\uD7B0-\uD7FF]|\u200d[^\r\n])*/gu;

export function countText(text: string): TextCounts {
  let words = 0;
  for (const _ of text.matchAll(wordPattern)) words++;
  // Characters count what a reader sees as one (an emoji, an accented letter), not
  // code points or UTF-16 units, and not line breaks.
  let characters = 0;
  for (const [ch] of text.matchAll(characterPattern)) if (ch !== "\n" && ch !== "\r" && ch !== "\r\n") characters++;
  return { words, characters };
}
