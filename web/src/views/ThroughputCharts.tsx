import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { Card, ErrorBanner, Loading } from '../components/ui';
import { useLive } from '../live/hooks';
import { areaPath, formatLatency, formatRate, isolated, linePath, nearest, niceMax, peak, ticks, timeLabels, xAt, yAt, type Frame } from '../lib/chart';
import { formatCount } from '../lib/format';
import type { Throughput } from '../api/types';
import './charts.css';

/** The series are 10 s intervals; between events the page re-reads them this often. */
const refreshMs = 10_000;

/**
 * ThroughputCharts draws the last 15 minutes of job rates and claim
 * latency from GET /api/v1/stats/throughput: the node keeps them, so a
 * page opened late still shows the whole window. Job events nudge a
 * refresh (at most two a second), so the newest point moves live.
 */
export function ThroughputCharts() {
  const tp = useLive('stats:throughput', (c) => c.throughput(), refreshMs);
  const d = tp.data;
  if (!d) {
    return (
      <div className="grid cols-2">
        {['Throughput', 'Claim latency'].map((t) => (
          <Card key={t} title={t} hint="Last 15 minutes">
            {tp.error ? <ErrorBanner error={tp.error} what="throughput" /> : <Loading rows={4} label={`Loading ${t.toLowerCase()}`} />}
          </Card>
        ))}
      </div>
    );
  }
  const starts = d.points.map((p) => p.start);
  const minutes = Math.round(d.window_seconds / 60);
  const total = (f: (p: Throughput['points'][number]) => number) =>
    Math.round(d.points.reduce((n, p, i) => n + f(p) * (i === d.points.length - 1 ? Math.max(1, (Date.parse(d.now) - Date.parse(p.start)) / 1000) : d.interval_seconds), 0));
  const claims = d.points.filter((p) => p.claim_latency_p50_seconds !== null);
  const lastClaim = claims[claims.length - 1];
  return (
    <div className="grid cols-2">
      <Card title="Throughput" hint={`Jobs per second · last ${minutes} min · ${d.interval_seconds} s intervals`} id="throughput">
        <TimeChart
          label={`Jobs per second over the last ${minutes} minutes`}
          starts={starts}
          format={formatRate}
          empty="No jobs submitted or finished in this window"
          series={[
            { key: 'submitted', label: 'Submitted', color: 'var(--accent)', area: true, values: d.points.map((p) => p.submitted), total: total((p) => p.submitted) },
            { key: 'succeeded', label: 'Succeeded', color: 'var(--ok)', values: d.points.map((p) => p.succeeded), total: total((p) => p.succeeded) },
            { key: 'failed', label: 'Failed', color: 'var(--bad)', values: d.points.map((p) => p.failed), total: total((p) => p.failed) },
          ]}
        />
      </Card>
      <Card title="Claim latency" hint="Claimable → claimed by a robot · per interval" id="claim-latency">
        <TimeChart
          label={`Claim latency p50 and p95 over the last ${minutes} minutes`}
          starts={starts}
          format={formatLatency}
          floor={0.01}
          empty="No jobs claimed in this window"
          series={[
            { key: 'p50', label: 'p50', color: 'var(--info)', area: true, values: d.points.map((p) => p.claim_latency_p50_seconds), now: lastClaim?.claim_latency_p50_seconds },
            { key: 'p95', label: 'p95', color: 'var(--warn)', values: d.points.map((p) => p.claim_latency_p95_seconds), now: lastClaim?.claim_latency_p95_seconds },
          ]}
        />
      </Card>
    </div>
  );
}

interface Series {
  key: string;
  label: string;
  color: string;
  values: (number | null)[];
  /** Filled below the line (only for a series without gaps in use). */
  area?: boolean;
  /** Shown in the legend: a count over the window … */
  total?: number;
  /** … or the latest value. */
  now?: number | null;
}

const height = 176;
const margin = { left: 52, right: 12, top: 10, bottom: 24 };

function TimeChart({ label, starts, series, format, floor = 1, empty }: {
  label: string; starts: string[]; series: Series[]; format: (v: number) => string; floor?: number; empty: string;
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(560);
  const [hover, setHover] = useState<number | null>(null);
  useEffect(() => {
    const el = wrap.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([e]) => setWidth(Math.max(240, Math.round(e.contentRect.width))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const f: Frame = { width, height, ...margin };
  const n = starts.length;
  const highest = Math.max(...series.map((s) => peak(s.values)));
  const top = niceMax(highest, floor);
  const quiet = highest === 0;
  const labelAt = timeLabels(starts);
  // The first series is drawn last, on top.
  const drawn = [...series].reverse();
  const onMove = (e: PointerEvent<SVGSVGElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    setHover(nearest(f, e.clientX - box.left, n));
  };
  const summary = `${label}: ` + series.map((s) => `${s.label} peak ${format(peak(s.values))}`).join(', ');

  return (
    <div className="chart">
      <ul className="chart-legend">
        {series.map((s) => (
          <li key={s.key}>
            <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
            <span className="name">{s.label}</span>
            <span className="val">
              {hover !== null ? fmt(s.values[hover], format) : s.total !== undefined ? `${formatCount(s.total)} jobs` : fmt(s.now ?? null, format)}
            </span>
          </li>
        ))}
        <li className="when" aria-hidden={hover === null}>{hover !== null ? clock(starts[hover], true) : ''}</li>
      </ul>
      <div className="chart-plot" ref={wrap}>
        <svg width={width} height={height} role="img" aria-label={summary}
          onPointerMove={onMove} onPointerLeave={() => setHover(null)}>
          {ticks(top).map((t) => (
            <g key={t} className="tick">
              <line x1={f.left} x2={width - f.right} y1={yAt(f, t, top)} y2={yAt(f, t, top)} />
              <text x={f.left - 8} y={yAt(f, t, top)} dy="0.32em" textAnchor="end">{t === 0 ? '0' : format(t)}</text>
            </g>
          ))}
          {n > 1 && labelAt.map((i, k) => (
            <text key={i} className="xlabel" x={xAt(f, i, n)} y={height - 6} textAnchor={k === labelAt.length - 1 ? 'end' : i < 3 ? 'start' : 'middle'}>
              {k === labelAt.length - 1 ? 'now' : clock(starts[i])}
            </text>
          ))}
          {drawn.map((s) => s.area && !s.values.some((v) => v === null) && (
            <path key={`${s.key}-area`} d={areaPath(f, s.values as number[], top)} fill={s.color} className="area" />
          ))}
          {drawn.map((s) => (
            <g key={s.key} data-series={s.key}>
              <path d={linePath(f, s.values, top)} stroke={s.color} className="line" />
              {isolated(s.values).map((i) => <circle key={i} cx={xAt(f, i, n)} cy={yAt(f, s.values[i]!, top)} r={3} fill={s.color} />)}
            </g>
          ))}
          {hover !== null && (
            <g className="cursor">
              <line x1={xAt(f, hover, n)} x2={xAt(f, hover, n)} y1={f.top} y2={height - f.bottom} />
              {series.map((s) => {
                const v = s.values[hover];
                return v === null ? null : <circle key={s.key} cx={xAt(f, hover, n)} cy={yAt(f, v, top)} r={3.5} fill={s.color} />;
              })}
            </g>
          )}
        </svg>
        {quiet && <div className="chart-quiet">{empty}</div>}
      </div>
    </div>
  );
}

function fmt(v: number | null | undefined, format: (v: number) => string): string {
  return v === null || v === undefined ? '—' : format(v);
}

function clock(iso: string | undefined, seconds = false): string {
  if (!iso) return '';
  const d = new Date(iso);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return seconds ? `${hm}:${String(d.getSeconds()).padStart(2, '0')}` : hm;
}
