/** A small set of stroke icons, drawn for 18px at 1.6 stroke; inline so the CSP stays strict. */
const paths = {
  undo: "M9 14 4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3",
  redo: "m15 14 5-5-5-5M20 9H10a6 6 0 0 0 0 12h3",
  bold: "M7 5h6a3.5 3.5 0 0 1 0 7H7zM7 12h7a3.5 3.5 0 0 1 0 7H7z",
  italic: "M14 5h-4M14 19h-4M14.5 5l-5 14",
  underline: "M7 4v7a5 5 0 0 0 10 0V4M5 20h14",
  strike: "M5 12h14M16 6.5A4 3.5 0 0 0 12 5c-2.5 0-4 1.3-4 3 0 4 8 2.5 8 7 0 1.9-1.8 3.5-4.5 3.5A5 4 0 0 1 7 17",
  code: "m9 8-4 4 4 4M15 8l4 4-4 4",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  bullets: "M9 6h11M9 12h11M9 18h11M4.5 6h.01M4.5 12h.01M4.5 18h.01",
  numbers: "M10 6h10M10 12h10M10 18h10M4 4.5h1.5V9M4 9h3M4 14.5a1.5 1.5 0 0 1 3 .5L4 19h3",
  tasks: "M10 7h10M10 17h10M3.5 6.5l1.5 1.5 3-3M4 14h4v4H4z",
  quote: "M6 17c-1.5-1-2-2.5-2-4.5C4 9 6 7 9 6M15 17c-1.5-1-2-2.5-2-4.5 0-3.5 2-5.5 5-6.5",
  rule: "M4 12h16M4 6h.01M20 6h.01M4 18h.01M20 18h.01",
  more: "M6 12h.01M12 12h.01M18 12h.01",
  history: "M12 7.5V12l3 2M3.5 12A8.5 8.5 0 1 0 6 6M3.5 3.5V8H8",
  comment: "M20 14a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2zM8 9h8M8 12h5",
  comments: "M17 9V6a2 2 0 0 0-2-2H5a2 2 0 0 0-2 2v10l3-3h2M11 11h8a2 2 0 0 1 2 2v8l-3-3h-5a2 2 0 0 1-2-2z",
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={name === "more" ? 3 : 1.6} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={paths[name]} />
    </svg>
  );
}
