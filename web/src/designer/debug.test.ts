import { describe, expect, it } from 'vitest';
import { canCommand, debugKey, pausedNode, showValue, toggleBreakpoint, type DebugState } from './debug';

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
