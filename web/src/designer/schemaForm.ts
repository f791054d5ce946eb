// The config form, generated from a node type's JSON Schema: which
// control each field gets, how its text becomes a config value, and the
// mistakes the form catches before the server's validator sees them.

import type { ConfigSchema, FieldSchema } from './types';

export type Control = 'text' | 'textarea' | 'code' | 'json' | 'select' | 'boolean' | 'number';

export interface FormField {
  name: string;
  label: string;
  control: Control;
  required: boolean;
  description: string;
  /** The field's type as `casare nodes` names it. */
  kind: string;
  options?: string[];
  placeholder: string;
  template: boolean;
}

const longText = new Set(['message', 'body', 'script', 'command', 'content', 'text']);

/** formFields lists the schema's fields, required ones first. */
export function formFields(schema: ConfigSchema | undefined): FormField[] {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, p]) => field(name, p, required.has(name)));
  return fields.sort((a, b) => Number(b.required) - Number(a.required));
}

function field(name: string, p: FieldSchema, required: boolean): FormField {
  const kind = p['x-casare-type'] ?? p.type ?? 'any';
  let control: Control = 'text';
  if (p.enum) control = 'select';
  else if (kind === 'boolean') control = 'boolean';
  else if (kind === 'integer' || kind === 'number') control = 'number';
  else if (kind === 'expression') control = 'code';
  else if (['list', 'list of strings', 'map', 'map of strings', 'any', 'workflow'].includes(kind)) control = 'json';
  else if (kind === 'string' && longText.has(name)) control = 'textarea';
  let placeholder = p.default !== undefined ? `default: ${String(p.default)}` : '';
  if (!placeholder && kind === 'duration') placeholder = 'e.g. 30s, 1m30s';
  if (!placeholder && kind === 'variable') placeholder = 'a variable name';
  if (!placeholder && control === 'json') placeholder = kind.startsWith('map') ? '{"key": "value"}' : kind === 'workflow' ? '{"name": …, "nodes": […]}' : '["a", "b"] or {{ list }}';
  return {
    name, label: name.replace(/_/g, ' '), control, required, description: p.description ?? '', kind,
    options: p.enum, placeholder, template: !!p['x-template'],
  };
}

/** Result of reading a control's text. */
export interface Parsed {
  value?: unknown;
  /** Empty text: the field is left out of the config. */
  unset?: boolean;
  /** What is wrong; with a value, the value is kept for the server to judge too. */
  error?: string;
}

const isTemplate = (s: string) => s.includes('{{');
const durationRe = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/**
 * parseInput turns a control's text into the config value: a number for
 * numeric fields, JSON for lists and maps, the text itself for strings
 * and for {{ templates }}. Empty text unsets the field. It catches what
 * the browser can know without the server (not a number, not JSON, not
 * a duration); the server's validator has the last word.
 */
export function parseInput(f: FormField, text: string): Parsed {
  if (text.trim() === '') return { unset: true };
  if (f.template && isTemplate(text)) return { value: text };
  switch (f.control) {
    case 'number': {
      const n = Number(text);
      if (!Number.isFinite(n)) return { error: `want a ${f.kind === 'integer' ? 'whole number' : 'number'}` };
      if (f.kind === 'integer' && !Number.isInteger(n)) return { error: 'want a whole number' };
      return { value: n };
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return { value: text === 'true' };
      return { error: 'want true or false' };
    case 'json': {
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { error: f.template ? 'not JSON; a {{ expression }} works too' : 'not JSON' };
      }
    }
    default:
      if (f.kind === 'duration' && !durationRe.test(text.trim())) return { value: text, error: 'want a duration such as 30s or 1m30s' };
      return { value: text };
  }
}

/** formatValue is the text a control shows for a config value. */
export function formatValue(f: FormField, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (f.control === 'json' && typeof v !== 'string') return JSON.stringify(v, null, 2);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** missingRequired names the required fields a config leaves unset. */
export function missingRequired(schema: ConfigSchema | undefined, config: Record<string, unknown> | undefined): string[] {
  return (schema?.required ?? []).filter((k) => config?.[k] === undefined || config[k] === '');
}
