// SVG plots of the series the benchmarks hand to the suite (bench/common/results.ts),
// drawn by Vega-Lite in Node: compiled to a Vega spec and rendered headless (no browser,
// no canvas) to an SVG string.
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";
import type { Series } from "./results";

/**
 * Without a canvas Vega guesses every text as 0.8 em a character, half again as wide as
 * Helvetica: long titles then widen the plot, and a long axis title pushes it down. This
 * Helvetica's widths near enough for layout.
 */
function textWidth(text: string, fontSize: number, bold: boolean): number {
  let em = 0;
  for (const ch of text) {
    if (" .,:;'|!iIjl".includes(ch)) em += 0.26;
    else if ("ftr()[]-/".includes(ch)) em += 0.32;
    else if ("mMW%".includes(ch)) em += 0.86;
    else if ("w".includes(ch)) em += 0.72;
    else if (/[A-Z]/.test(ch)) em += 0.68;
    else em += 0.55;
  }
  // A little generous: where Helvetica and Arial are missing, the wider DejaVu Sans draws it.
  return em * fontSize * (bold ? 1.15 : 1) * 1.12;
}
const metrics = (vega as unknown as { textMetrics: { width: (item: { fontSize?: number; fontWeight?: string | number }, text?: unknown) => number } }).textMetrics;
metrics.width = (item, text) => {
  const value = text == null ? "" : String(text).trim();
  const weight = item.fontWeight;
  return textWidth(value, item.fontSize ?? 11, weight === "bold" || (typeof weight === "number" && weight >= 600));
};

const WIDTH = 620;
const HEIGHT = 340;

/** An axis title says when its scale is logarithmic. */
const titled = (label: string, log: boolean) => (log && !/\blog\b/i.test(label) ? `${label}, log scale` : label);

/** Values spanning two decades or more read better on a log scale. */
function wantsLog(values: number[], asked: boolean | undefined): boolean {
  if (asked !== undefined) return asked && values.every((v) => v > 0);
  const positive = values.filter((v) => Number.isFinite(v));
  if (positive.length < 2 || positive.some((v) => v <= 0)) return false;
  return Math.max(...positive) / Math.min(...positive) >= 100;
}

/** Tick values for a log axis: 1, 2, 5 per decade within the data's range, more steps when that gives too few. */
function logTicks(min: number, max: number): number[] {
  for (const steps of [[1, 2, 5], [1, 1.5, 2, 3, 4, 5, 6, 7, 8], [1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = Math.floor(Math.log10(min)) - 1; e <= Math.ceil(Math.log10(max)) + 1; e++) {
      for (const m of steps) {
        const t = Number((m * 10 ** e).toPrecision(6));
        if (t >= min / 1.0001 && t <= max * 1.0001) ticks.push(t);
      }
    }
    if (ticks.length >= 3) return ticks;
  }
  return [min, max];
}

/** `atData`: ticks at the data's own values when there are few (typists: 2, 8, 32). */
function axisFor(values: number[], log: boolean, atData = false): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
  const finite = values.filter((v) => Number.isFinite(v));
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const distinct = [...new Set(finite)].sort((a, b) => a - b);
  if (!log) {
    const ticks = atData && distinct.length <= 8 && distinct.every(Number.isInteger) ? { values: distinct } : {};
    // Millions of bytes read better as 8M than as 8,000,000.
    // A label expression, not `format`: Vega would otherwise fit the precision to the tick step (8e+1).
    const format = { labelExpr: Math.max(Math.abs(min), Math.abs(max)) >= 100_000 ? "format(datum.value, '.3~s')" : "format(datum.value, ',.6~g')" };
    return { scale: { zero: min >= 0 && min < (max - min) * 0.5, nice: true }, axis: { ...ticks, ...format } };
  }
  // A log axis gets its ticks where the data is (few distinct values) or at 1-2-5 steps.
  const lo = min / 1.15;
  const hi = max * 1.15;
  const ticks = atData && distinct.length <= 8 ? distinct : logTicks(lo, hi);
  return { scale: { type: "log", domain: [lo, hi], nice: false }, axis: { values: ticks, labelExpr: "format(datum.value, ',.6~g')" } };
}

const CONFIG = {
  font: "Helvetica, Arial, sans-serif",
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555", anchor: "start" as const, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#e6e6e6", titleFontWeight: "normal" as const },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: "bottom" as const, direction: "vertical" as const, labelLimit: 560, symbolStrokeWidth: 3 },
  view: { stroke: "#bbb" },
  range: { category: ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"] },
};

/** Weighted samples → the value at each percentile, on a grid dense in the tail. */
function percentileCurve(points: [number, number][]): { tail: number; value: number }[] {
  // A point is one sample (x) with a weight (y): 1 for a raw sample, a count for a histogram bucket.
  const samples = points.filter(([x]) => Number.isFinite(x)).map(([x, w]) => [x, Number.isFinite(w) && w > 0 ? w : 1] as [number, number]);
  samples.sort((a, b) => a[0] - b[0]);
  const total = samples.reduce((a, [, w]) => a + w, 0);
  if (total === 0) return [];
  // tail = 1 / (1 − p): 1 at p = 0, 2 at the median, 100 at p99; the last point is the maximum.
  const maxTail = Math.max(2, total);
  const out: { tail: number; value: number }[] = [];
  const steps = 160;
  let i = 0;
  let below = 0;
  for (let s = 0; s <= steps; s++) {
    const tail = maxTail ** (s / steps);
    const p = 1 - 1 / tail;
    // The right end is the slowest sample itself.
    const rank = s === steps ? total : Math.min(total, Math.max(1e-9, p * total));
    while (i < samples.length - 1 && below + samples[i]![1] < rank) below += samples[i++]![1];
    out.push({ tail, value: samples[i]![0] });
  }
  return out;
}

function percentLabel(tail: number): string {
  const p = 100 - 100 / tail;
  return `p${Number(p.toFixed(2))}`;
}

/** The Vega-Lite spec of a series. */
function specOf(series: Series, subtitle: string): TopLevelSpec {
  const title = { text: series.title, subtitle };
  if (series.kind === "distribution") {
    const rows = series.lines.flatMap((line) => {
      const n = line.points.reduce((a, [, w]) => a + (Number.isFinite(w) && w > 0 ? w : 1), 0);
      const curve = percentileCurve(line.points);
      return curve.map((r, i) => ({ ...r, line: `${line.name} (n = ${Math.round(n).toLocaleString("en-US")})`, slowest: i === curve.length - 1 }));
    });
    const maxTail = Math.max(2, ...rows.map((r) => r.tail));
    const tailTicks = [1, 2, 4, 10, 20, 100, 1000, 10000].filter((t) => t <= maxTail * 1.0001);
    const values = rows.map((r) => r.value);
    const logValues = wantsLog(values, series.x.log);
    const y = axisFor(values, logValues);
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title,
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      data: { values: rows },
      encoding: {
        x: {
          field: "tail",
          type: "quantitative",
          title: "percentile (tail stretched; the dot is the slowest sample)",
          // Room on the right for the slowest sample's mark.
          scale: { type: "log", domain: [1, maxTail * 1.3], nice: false },
          axis: { values: tailTicks, labelExpr: tailTicks.map((t) => `datum.value == ${t} ? ${JSON.stringify(t === 1 ? "p0" : percentLabel(t))} : `).join("") + '""' },
        },
        y: { field: "value", type: "quantitative", title: titled(series.x.label, logValues), ...y },
        color: { field: "line", type: "nominal", title: null, sort: null, legend: { symbolType: "stroke" } },
      },
      layer: [
        { mark: { type: "line", interpolate: "step-after", strokeWidth: 2, clip: true } },
        // The slowest sample, marked at the right end.
        { transform: [{ filter: "datum.slowest" }], mark: { type: "point", filled: true, size: 40, opacity: 1 } },
      ],
    };
  }
  const rows = series.lines.flatMap((line) => line.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => ({ x, y, line: line.name })));
  const xs = rows.map((r) => r.x);
  const ys = rows.map((r) => r.y);
  const [logX, logY] = [wantsLog(xs, series.x.log), wantsLog(ys, series.y.log)];
  const x = axisFor(xs, logX, true);
  const y = axisFor(ys, logY);
  const manyPoints = Math.max(...series.lines.map((l) => l.points.length)) > 40;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    config: CONFIG,
    data: { values: rows },
    mark: { type: "line", point: manyPoints ? false : { size: 45, filled: true }, strokeWidth: 2, clip: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: titled(series.x.label, logX), ...x },
      y: { field: "y", type: "quantitative", title: titled(series.y.label, logY), ...y },
      color: { field: "line", type: "nominal", title: null, sort: null, legend: { symbolType: "stroke" } },
    },
  };
}

/** Renders a series to an SVG document. */
export async function renderSvg(series: Series, subtitle: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(specOf(series, subtitle)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
