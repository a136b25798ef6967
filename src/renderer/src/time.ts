const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600e3],
  ["month", 30 * 24 * 3600e3],
  ["week", 7 * 24 * 3600e3],
  ["day", 24 * 3600e3],
  ["hour", 3600e3],
  ["minute", 60e3],
];
const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "just now", "5 minutes ago", "yesterday". */
export function relativeTime(then: number, now: number): string {
  const diff = then - now;
  if (Math.abs(diff) < 45e3) return "just now";
  for (const [unit, ms] of units) if (Math.abs(diff) >= ms) return format.format(Math.round(diff / ms), unit);
  return format.format(Math.round(diff / 60e3), "minute");
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const dayMonthYear = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

/** A day's heading in the history: "Today", "Yesterday", "27 Nov" (with the year when not this one). */
export function dayLabel(ms: number, now: number): string {
  const day = (t: number) => new Date(t).toDateString();
  if (day(ms) === day(now)) return "Today";
  if (day(ms) === day(now - 24 * 3600e3)) return "Yesterday";
  return new Date(ms).getFullYear() === new Date(now).getFullYear() ? dayMonth.format(ms) : dayMonthYear.format(ms);
}

/** "14:02", or "14:02–14:30" for a span within a day. */
export function clockRange(startMs: number, endMs: number): string {
  const a = clock.format(startMs);
  const b = clock.format(endMs);
  return a === b ? a : `${a}–${b}`;
}

/** "27 Nov, 14:02": a moment named in a message. */
export function moment(ms: number, now: number): string {
  return `${dayLabel(ms, now).replace(/^T/, "t").replace(/^Y/, "y")}, ${clock.format(ms)}`;
}
