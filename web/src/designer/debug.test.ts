import { describe, expect, it } from 'vitest';
import { addWatch, canCommand, debugKey, debugPath, maxWatchLength, maxWatches, pausedNode, removeWatch, showValue, toggleBreakpoint, watchRows, type DebugState } from './debug';

const state = (over: Partial<DebugState>): DebugState => ({
  job_id: 'j', job_state: 'running', breakpoints: [], pause_timeout: '10m0s', ...over,
});
const stop = { stop: 2, node: 'call/inner', reason: 'step', variables: {}, call_stack: [], since: '' };

describe('debugger', () => {
  it('toggles breakpoints', () => {
    expect(toggleBreakpoint([], 'a')).toEqual(['a']);
    expect(toggleBreakpoint(['a', 'b'], 'a')).toEqual(['b']);
  });
  it('maps F9, F5, F10 and F11 but leaves Ctrl+F5 to Run on Robot', () => {
    const k = (key: string, ctrlKey = false) => debugKey({ key, ctrlKey, metaKey: false });
    expect([k('F9'), k('F5'), k('F10'), k('F11'), k('F8')]).toEqual(['toggle', 'continue', 'step', 'step_into', undefined]);
    expect(k('F5', true)).toBeUndefined();
  });
  it('takes a command only at a stop no command has answered', () => {
    expect(canCommand(undefined)).toBe(false);
    expect(canCommand(state({}))).toBe(false);
    expect(canCommand(state({ paused: stop }))).toBe(true);
    expect(canCommand(state({ paused: stop, last_command: { seq: 3, stop: 2, action: 'step' } }))).toBe(false);
    expect(canCommand(state({ paused: stop, last_command: { seq: 2, stop: 1, action: 'step' } }))).toBe(true);
    expect(canCommand(state({ paused: stop, job_state: 'queued' }))).toBe(false);
  });
  it('shows a stop inside a subworkflow on its call node', () => {
    expect(pausedNode(state({ paused: stop }))).toBe('call');
    expect(pausedNode(state({}))).toBeUndefined();
  });
  it('shows values', () => {
    expect(showValue('x')).toBe('x');
    expect(showValue({ a: 1 })).toBe('{"a":1}');
  });
});

describe('watches', () => {
  it('adds trimmed expressions once and within the bounds', () => {
    expect(addWatch([], '  a + 1 ')).toEqual({ watches: ['a + 1'] });
    expect(addWatch(['a'], 'a').error).toMatch(/already watched/);
    expect(addWatch([], '   ').error).toMatch(/Type an expression/);
    expect(addWatch([], 'x'.repeat(maxWatchLength + 1)).error).toMatch(/at most 1024 bytes/);
    const full = Array.from({ length: maxWatches }, (_, i) => `v${i}`);
    expect(addWatch(full, 'y')).toEqual({ watches: full, error: `At most ${maxWatches} watches.` });
    expect(removeWatch(['a', 'b'], 'a')).toEqual(['b']);
  });
  it('asks the server for every watch', () => {
    expect(debugPath('j 1')).toBe('/api/v1/jobs/j%201/debug');
    expect(debugPath('j', ['a + 1', 'b["x"]'])).toBe('/api/v1/jobs/j/debug?watch=a+%2B+1&watch=b%5B%22x%22%5D');
  });
  it('shows each watch with its value, its error or as pending', () => {
    const s = { ...stop, watches: [{ expression: 'n', value: 42 }, { expression: 'bad(', error: 'unexpected token (1:4)\n | bad(\n | ...^' }, { expression: 'x', value: null }] };
    expect(watchRows(['n', 'bad(', 'x', 'later'], s)).toEqual([
      { expression: 'n', text: '42', error: false },
      { expression: 'bad(', text: 'unexpected token (1:4)', error: true, title: 'unexpected token (1:4)\n | bad(\n | ...^' },
      { expression: 'x', text: 'null', error: false },
      { expression: 'later', text: '…', error: false },
    ]);
    expect(watchRows(['n'], undefined)).toEqual([{ expression: 'n', text: '', error: false }]);
  });
});
