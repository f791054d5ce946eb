import { describe, expect, it } from 'vitest';
import { recentred } from './viewport';

describe('recentred', () => {
  it('keeps the flow point at the middle in the middle when the canvas shrinks', () => {
    const v = { x: 40, y: 100, zoom: 0.5 };
    const prev = { width: 600, height: 700 }, next = { width: 600, height: 500 };
    const mid = { x: (prev.width / 2 - v.x) / v.zoom, y: (prev.height / 2 - v.y) / v.zoom };
    const r = recentred(v, prev, next);
    expect(r.zoom).toBe(0.5);
    expect(mid.x * r.zoom + r.x).toBe(next.width / 2);
    expect(mid.y * r.zoom + r.y).toBe(next.height / 2);
  });
  it('moves back when the canvas grows again', () => {
    const v = { x: 3, y: -7, zoom: 1.2 };
    const a = { width: 800, height: 600 }, b = { width: 520, height: 410 };
    expect(recentred(recentred(v, a, b), b, a)).toEqual(v);
  });
  it('leaves the viewport alone before the canvas has a size', () => {
    const v = { x: 1, y: 2, zoom: 1 };
    expect(recentred(v, { width: 0, height: 0 }, { width: 800, height: 600 })).toBe(v);
    expect(recentred(v, { width: 800, height: 600 }, { width: 0, height: 600 })).toBe(v);
  });
});
