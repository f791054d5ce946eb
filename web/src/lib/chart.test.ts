import { describe, expect, it } from 'vitest';
import { areaPath, formatLatency, formatRate, isolated, linePath, nearest, niceMax, peak, ticks, timeLabels, xAt, yAt, type Frame } from './chart';

const f: Frame = { width: 110, height: 60, left: 10, right: 0, top: 10, bottom: 0 };

describe('niceMax', () => {
  it.each([
    [0, 1], [0.3, 1], [1, 1], [1.2, 2], [2.2, 4], [5, 6], [7, 8], [9, 10], [12, 20], [240, 400], [0.04, 1],
  ])('%d rounds up to %d', (v, want) => expect(niceMax(v)).toBe(want));
  it('honours a smaller floor', () => {
    expect(niceMax(0.005, 0.001)).toBeCloseTo(0.006);
    expect(niceMax(0.0204, 0.01)).toBeCloseTo(0.04);
    expect(niceMax(0, 0.01)).toBeCloseTo(0.01);
  });
});

describe('geometry', () => {
  it('spreads points over the plot and scales values from the bottom', () => {
    expect(xAt(f, 0, 11)).toBe(10);
    expect(xAt(f, 10, 11)).toBe(110);
    expect(yAt(f, 0, 5)).toBe(60);
    expect(yAt(f, 5, 5)).toBe(10);
    expect(yAt(f, 50, 5)).toBe(10); // clamped to the top
    expect(ticks(8)).toEqual([0, 2, 4, 6, 8]);
  });
  it('breaks a line at a gap instead of drawing through zero', () => {
    expect(linePath(f, [0, 5, null, 5, 0], 5)).toBe('M10,60L35,10M85,10L110,60');
    expect(linePath(f, [null, null], 5)).toBe('');
  });
  it('closes an area down to the axis', () => {
    expect(areaPath(f, [5, 5], 5)).toBe('M10,10L110,10L110,60L10,60Z');
    expect(areaPath(f, [], 5)).toBe('');
  });
  it('finds the point under the pointer', () => {
    expect(nearest(f, 0, 11)).toBe(0);
    expect(nearest(f, 34, 11)).toBe(2);
    expect(nearest(f, 500, 11)).toBe(10);
    expect(nearest(f, 50, 1)).toBe(0);
  });
  it('finds a peak across gaps', () => expect(peak([null, 2, 7, null, 1])).toBe(7));
});

describe('formatting', () => {
  it.each([[0, '0'], [0.25, '0.25/s'], [0.75, '0.75/s'], [0.5, '0.5/s'], [1, '1/s'], [2.5, '2.5/s'], [12.4, '12/s'], [1500, '1.5k/s'], [NaN, '0']])(
    'rate %d is %s', (v, want) => expect(formatRate(v)).toBe(want));
  it.each([[0.0008, '0.8 ms'], [0.0025, '2.5 ms'], [0.005, '5 ms'], [0.012, '12 ms'], [0.25, '250 ms'], [1.23, '1.2 s'], [7.5, '7.5 s'], [95, '95 s'], [null, '—']])(
    'latency %s is %s', (v, want) => expect(formatLatency(v)).toBe(want));
});

describe('isolated', () => {
  it('marks the points a line cannot draw', () => {
    expect(isolated([null, 1, null, 2, 3, null, 4])).toEqual([1, 6]);
    expect(isolated([1])).toEqual([0]);
    expect(isolated([null, null])).toEqual([]);
  });
});

describe('timeLabels', () => {
  const at = (i: number) => new Date(Date.parse('2026-11-30T10:00:00Z') + i * 10_000).toISOString();
  it('labels whole five minutes and now, none crowding now', () => {
    const starts = Array.from({ length: 90 }, (_, i) => at(i + 3)); // 10:00:30 … 10:15:20
    expect(timeLabels(starts)).toEqual([27, 57, 89]); // 10:05, 10:10, now; 10:15 is too close to now
    expect(timeLabels([])).toEqual([]);
  });
});
