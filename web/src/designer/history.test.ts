import { describe, expect, it } from 'vitest';
import { History } from './history';

describe('History', () => {
  it('undoes and redoes in order', () => {
    const h = new History<number>();
    let doc = 0;
    for (const next of [1, 2, 3]) {
      h.record(doc, '', next * 10_000);
      doc = next;
    }
    expect((doc = h.undo(doc)!)).toBe(2);
    expect((doc = h.undo(doc)!)).toBe(1);
    expect((doc = h.redo(doc)!)).toBe(2);
    expect((doc = h.undo(doc)!)).toBe(1);
    expect((doc = h.undo(doc)!)).toBe(0);
    expect(h.undo(doc)).toBeUndefined();
    expect(h.canRedo).toBe(true);
  });

  it('forgets the redo branch after a new edit', () => {
    const h = new History<string>();
    h.record('a', '', 0);
    const undone = h.undo('b')!;
    h.record(undone, '', 5000);
    expect(h.redo('c')).toBeUndefined();
    expect(h.undo('c')).toBe('a');
  });

  it('joins a burst of edits with one key into one step', () => {
    const h = new History<string>();
    h.record('', 'field:url', 0);
    h.record('h', 'field:url', 100);
    h.record('ht', 'field:url', 200);
    h.record('htt', 'field:method', 300);
    expect(h.undo('http-GET')).toBe('htt');
    expect(h.undo('htt')).toBe('');
    expect(h.canUndo).toBe(false);
  });

  it('keeps at most its limit', () => {
    const h = new History<number>(3);
    for (let i = 0; i < 10; i++) h.record(i, '', i * 10_000);
    expect(h.undo(10)).toBe(9);
    expect(h.undo(9)).toBe(8);
    expect(h.undo(8)).toBe(7);
    expect(h.undo(7)).toBeUndefined();
  });
});
