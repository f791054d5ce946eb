// Formatting helpers: pure functions of their arguments (now is passed
// in), so that they are tested without a clock.

/** formatDuration renders milliseconds as "850 ms", "12.3 s", "4m 05s", "2h 03m", "3d 4h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const total = Math.floor(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${pad2(m)}m`;
  return `${m}m ${pad2(sec)}s`;
}

/** Duration between two RFC 3339 times; to absent means until now. */
export function durationBetween(from?: string, to?: string, now = Date.now()): number | undefined {
  const a = parseTime(from);
  if (a === undefined) return undefined;
  const b = parseTime(to) ?? now;
  return b - a;
}

/** formatRelative renders a time as "just now", "12 s ago", "in 5 min", "3 h ago", "2 d ago". */
export function formatRelative(time: string | undefined, now = Date.now()): string {
  const t = parseTime(time);
  if (t === undefined) return '—';
  const diff = t - now;
  const abs = Math.abs(diff);
  if (abs < 1500) return 'just now';
  let amount: string;
  if (abs < 60_000) amount = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) amount = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) amount = `${Math.round(abs / 3_600_000)} h`;
  else amount = `${Math.round(abs / 86_400_000)} d`;
  return diff < 0 ? `${amount} ago` : `in ${amount}`;
}

/** formatTime renders a time as local "2026-11-30 09:41:07"; absent as an em dash. */
export function formatTime(time: string | undefined): string {
  const t = parseTime(time);
  if (t === undefined) return '—';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** formatClock renders a log line's time of day with milliseconds. */
export function formatClock(time: string | undefined): string {
  const t = parseTime(time);
  if (t === undefined) return '';
  const d = new Date(t);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** parseTime reads an RFC 3339 time; absent, empty, zero or invalid give undefined. */
export function parseTime(time: string | undefined | null): number | undefined {
  if (!time || time.startsWith('0001-01-01')) return undefined;
  const t = Date.parse(time);
  return Number.isNaN(t) ? undefined : t;
}

/** shortId keeps the start of a long id for tables; full ids go in titles. */
export function shortId(id: string, keep = 8): string {
  if (!id) return '';
  return id.length <= keep + 1 ? id : `${id.slice(0, keep)}…`;
}

/** formatCount renders 1234567 as "1,234,567". */
export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** plural renders "1 job", "3 jobs". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Tone is the colour family of a status badge. */
export type Tone = 'ok' | 'info' | 'warn' | 'bad' | 'muted' | 'neutral';

const tones: Record<string, Tone> = {
  succeeded: 'ok', alive: 'ok', leader: 'ok', done: 'ok', enabled: 'ok', voter: 'info',
  running: 'info', queued: 'neutral', retrying: 'warn', pending: 'muted',
  suspect: 'warn', late: 'warn', disconnected: 'warn', candidate: 'warn', paused: 'warn',
  failed: 'bad', dead: 'bad', cancelled: 'muted', left: 'muted', skipped: 'muted', disabled: 'muted',
  follower: 'neutral', 'non-voter': 'neutral',
};

/** toneOf maps any state word the API uses to its badge colour. */
export function toneOf(state: string): Tone {
  return tones[state.toLowerCase()] ?? 'neutral';
}

/** prettyJSON renders a value for a <pre>, keeping an empty object short. */
export function prettyJSON(v: unknown): string {
  if (v === undefined) return '';
  if (v !== null && typeof v === 'object' && Object.keys(v).length === 0) return Array.isArray(v) ? '[]' : '{}';
  return JSON.stringify(v, null, 2);
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
