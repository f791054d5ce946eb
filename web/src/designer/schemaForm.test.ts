import { describe, expect, it } from 'vitest';
import { formFields, formatValue, missingRequired, parseInput } from './schemaForm';
import type { ConfigSchema } from './types';

// The schema the executor gives delay, log and for_each, in part.
const schema: ConfigSchema = {
  type: 'object',
  required: ['duration'],
  properties: {
    level: { type: 'string', enum: ['debug', 'info'], default: 'info', 'x-casare-type': 'string', 'x-template': true },
    duration: { type: 'string', format: 'duration', 'x-casare-type': 'duration', 'x-template': true, description: 'how long' },
    max_iterations: { type: 'integer', default: 10000, 'x-casare-type': 'integer', 'x-template': true },
    items: { type: 'array', 'x-casare-type': 'list', 'x-template': true },
    condition: { type: 'string', format: 'expression', 'x-casare-type': 'expression', 'x-template': false },
    flag: { type: 'boolean', 'x-casare-type': 'boolean', 'x-template': true },
    message: { type: 'string', 'x-casare-type': 'string', 'x-template': true },
  },
};

describe('schema → form', () => {
  const fields = Object.fromEntries(formFields(schema).map((f) => [f.name, f]));

  it('picks a control per type and puts required fields first', () => {
    expect(formFields(schema)[0].name).toBe('duration');
    expect(fields.duration.required).toBe(true);
    expect(fields.level.control).toBe('select');
    expect(fields.level.options).toEqual(['debug', 'info']);
    expect(fields.level.placeholder).toBe('default: info');
    expect(fields.max_iterations.control).toBe('number');
    expect(fields.items.control).toBe('json');
    expect(fields.condition.control).toBe('code');
    expect(fields.flag.control).toBe('boolean');
    expect(fields.message.control).toBe('textarea');
    expect(fields.duration.placeholder).toMatch(/30s/);
  });

  it('reads typed values and templates', () => {
    expect(parseInput(fields.max_iterations, '12')).toEqual({ value: 12 });
    expect(parseInput(fields.max_iterations, '1.5').error).toMatch(/whole number/);
    expect(parseInput(fields.max_iterations, 'lots').error).toMatch(/whole number/);
    expect(parseInput(fields.max_iterations, '{{ n * 2 }}')).toEqual({ value: '{{ n * 2 }}' });
    expect(parseInput(fields.items, '[1, "a"]')).toEqual({ value: [1, 'a'] });
    expect(parseInput(fields.items, '{{ rows }}')).toEqual({ value: '{{ rows }}' });
    expect(parseInput(fields.items, '[1,').error).toMatch(/not JSON/);
    expect(parseInput(fields.flag, 'true')).toEqual({ value: true });
    expect(parseInput(fields.duration, '')).toEqual({ unset: true });
    expect(parseInput(fields.duration, '1m30s')).toEqual({ value: '1m30s' });
    // A bad duration is kept, so the server's validator names it on the node too.
    expect(parseInput(fields.duration, 'soon')).toEqual({ value: 'soon', error: 'want a duration such as 30s or 1m30s' });
    // Expressions are never templates: braces are the expression's own.
    expect(parseInput(fields.condition, '{{ x }}')).toEqual({ value: '{{ x }}' });
  });

  it('shows values as text and finds missing required fields', () => {
    expect(formatValue(fields.items, [1, 2])).toBe('[\n  1,\n  2\n]');
    expect(formatValue(fields.max_iterations, 5)).toBe('5');
    expect(formatValue(fields.duration, undefined)).toBe('');
    expect(missingRequired(schema, {})).toEqual(['duration']);
    expect(missingRequired(schema, { duration: '1s' })).toEqual([]);
  });
});
