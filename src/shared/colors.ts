/** Colours that read well on both themes, for writers' names and (later) cursors. */
export const USER_COLORS = ["#c2410c", "#0f766e", "#7c3aed", "#be123c", "#1d4ed8", "#a16207", "#15803d", "#9d174d"] as const;
