// Geometry of the overview's time-series charts: pure functions, so that
// scales, ticks and paths are tested without a browser.

/**
 * niceMax rounds a series' peak up to 1, 2, 4, 6 or 8 × 10^k, never below
 * floor: tops whose quarters (the gridlines) are round numbers too.
 */
export function niceMax(peak: number, floor = 1): number {
  const v = Math.max(peak, floor);
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 4, 6, 8, 10]) {
    if (v <= m * mag + 1e-12) return m * mag;
  }
  return 10 * mag;
}

/** ticks are the y axis labels: 0, a quarter, half, three quarters and the top. */
export function ticks(top: number, n = 4): number[] {
  return Array.from({ length: n + 1 }, (_, i) => (top * i) / n);
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** x of point i of n, spread over the plot area. */
export function xAt(f: Frame, i: number, n: number): number {
  const w = f.width - f.left - f.right;
  return f.left + (n <= 1 ? w : (w * i) / (n - 1));
}

/** y of value v on a scale from 0 to top. */
export function yAt(f: Frame, v: number, top: number): number {
  const h = f.height - f.top - f.bottom;
  return f.top + h - (h * Math.min(v, top)) / top;
}

/**
 * linePath draws values as one SVG path; a null (no data in that
 * interval) breaks the line rather than drawing it through zero.
 */
export function linePath(f: Frame, values: (number | null)[], top: number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${round(xAt(f, i, values.length))},${round(yAt(f, v, top))}`;
    pen = true;
  });
  return d;
}

/** areaPath is linePath closed down to the x axis, for a filled series without gaps. */
export function areaPath(f: Frame, values: number[], top: number): string {
  if (values.length === 0) return '';
  const base = round(yAt(f, 0, top));
  return `${linePath(f, values, top)}L${round(xAt(f, values.length - 1, values.length))},${base}L${round(xAt(f, 0, values.length))},${base}Z`;
}

/** nearest is the point index under x (a pointer's position), clamped. */
export function nearest(f: Frame, x: number, n: number): number {
  if (n <= 1) return 0;
  const w = f.width - f.left - f.right;
  return Math.max(0, Math.min(n - 1, Math.round(((x - f.left) / w) * (n - 1))));
}

/** formatRate renders jobs per second: "0", "0.25/s", "2.5/s", "12/s", "1.2k/s". */
export function formatRate(v: number): string {
  if (!Number.isFinite(v) || v <= 0) return '0';
  if (v >= 1000) return `${trim(v / 1000)}k/s`;
  if (v >= 10) return `${Math.round(v)}/s`;
  if (v < 1) return `${Number(v.toFixed(2))}/s`;
  return `${trim(v)}/s`;
}

/**
 * isolated lists the indexes of values with no value on either side: a
 * line cannot draw them, so the chart marks them with a dot.
 */
export function isolated(values: (number | null)[]): number[] {
  const has = (i: number) => i >= 0 && i < values.length && values[i] !== null && Number.isFinite(values[i]);
  return values.flatMap((_, i) => (has(i) && !has(i - 1) && !has(i + 1) ? [i] : []));
}

/**
 * timeLabels picks the points to label on the x axis: those starting on
 * a whole multiple of everyMs (5 minutes), but none closer than minGap
 * points to the last one, which is labelled "now".
 */
export function timeLabels(starts: string[], everyMs = 300_000, minGap = 9): number[] {
  const last = starts.length - 1;
  const out = starts.flatMap((s, i) => (Date.parse(s) % everyMs === 0 && last - i >= minGap ? [i] : []));
  return last >= 0 ? [...out, last] : out;
}

/** formatLatency renders seconds as "0.8 ms", "2.5 ms", "12 ms", "1.2 s", "95 s"; null as an em dash. */
export function formatLatency(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const ms = seconds * 1000;
  if (ms < 10) return `${trim(ms)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

/** peak is a series' highest value, ignoring gaps; 0 for none. */
export function peak(values: (number | null)[]): number {
  return values.reduce<number>((m, v) => (v !== null && v > m ? v : m), 0);
}

function trim(v: number): string {
  return v.toFixed(1).replace(/\.0$/, '');
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
