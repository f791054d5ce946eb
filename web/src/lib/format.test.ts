import { describe, expect, it } from 'vitest';
import { durationBetween, formatCount, formatDuration, formatRelative, parseTime, plural, prettyJSON, shortId, toneOf } from './format';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'], [850, '850 ms'], [1234, '1.2 s'], [12_345, '12 s'], [65_000, '1m 05s'],
    [3_600_000 + 3 * 60_000, '1h 03m'], [3 * 86_400_000 + 4 * 3_600_000, '3d 4h'], [-5, '0 ms'], [NaN, '—'],
  ])('%d ms is %s', (ms, want) => expect(formatDuration(ms)).toBe(want));
});

describe('formatRelative', () => {
  const now = Date.parse('2026-11-30T10:00:00Z');
  it.each([
    ['2026-11-30T10:00:00.5Z', 'just now'],
    ['2026-11-30T09:59:48Z', '12 s ago'],
    ['2026-11-30T10:05:00Z', 'in 5 min'],
    ['2026-11-30T07:00:00Z', '3 h ago'],
    ['2026-11-28T10:00:00Z', '2 d ago'],
    [undefined, '—'],
    ['0001-01-01T00:00:00Z', '—'],
  ])('%s is %s', (t, want) => expect(formatRelative(t, now)).toBe(want));
});

describe('durationBetween', () => {
  it('runs to now when the end is absent', () => {
    expect(durationBetween('2026-11-30T10:00:00Z', undefined, Date.parse('2026-11-30T10:00:02Z'))).toBe(2000);
    expect(durationBetween('2026-11-30T10:00:00Z', '2026-11-30T10:00:01.5Z')).toBe(1500);
    expect(durationBetween(undefined, '2026-11-30T10:00:00Z')).toBeUndefined();
  });
});

describe('small helpers', () => {
  it('parseTime rejects garbage and Go zero times', () => {
    expect(parseTime('not a time')).toBeUndefined();
    expect(parseTime('')).toBeUndefined();
    expect(parseTime('0001-01-01T00:00:00Z')).toBeUndefined();
  });
  it('shortId keeps short ids whole', () => {
    expect(shortId('abc')).toBe('abc');
    expect(shortId('0123456789abcdef')).toBe('01234567…');
  });
  it('formatCount and plural', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(plural(1, 'job')).toBe('1 job');
    expect(plural(2, 'job')).toBe('2 jobs');
  });
  it('toneOf maps states to colours, unknown to neutral', () => {
    expect(toneOf('succeeded')).toBe('ok');
    expect(toneOf('Failed')).toBe('bad');
    expect(toneOf('suspect')).toBe('warn');
    expect(toneOf('whatever')).toBe('neutral');
  });
  it('prettyJSON keeps empty objects short', () => {
    expect(prettyJSON({})).toBe('{}');
    expect(prettyJSON({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(prettyJSON(undefined)).toBe('');
  });
});
