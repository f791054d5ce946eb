// The right-hand panel: the selected node's form, generated from its
// type's JSON Schema, with the validator's problems beside each field;
// with nothing selected, the workflow's own settings and problems.

import { useEffect, useState } from 'react';
import { formFields, formatValue, parseInput, type FormField } from './schemaForm';
import type { StepNode } from './model';
import type { NodeTypeList, NodeTypeSpec, Problem, WfDoc, WfNode } from './types';

type Head = Omit<WfDoc, 'nodes' | 'connections'>;

export function Inspector({ node, spec, types, problems, head, count, vars, secrets, onNode, onRename, onHead, onSelect }: {
  node?: StepNode;
  spec?: NodeTypeSpec;
  types?: NodeTypeList;
  problems: Problem[];
  head: Head;
  count: { nodes: number; edges: number; selected: number };
  vars: string[];
  secrets: string[];
  onNode: (id: string, wf: WfNode, key: string) => void;
  onRename: (from: string, to: string) => string | undefined;
  onHead: (head: Head, key: string) => void;
  onSelect: (id: string) => void;
}) {
  if (!node) return <WorkflowPanel head={head} problems={problems} count={count} onHead={onHead} onSelect={onSelect} />;
  const wf = node.data.wf;
  const mine = problems.filter((p) => p.node_id === wf.id);
  const fieldNames = new Set(Object.keys(spec?.config_schema.properties ?? {}));
  const general = mine.filter((p) => !fieldNames.has(p.field));
  const setConfig = (name: string, value: unknown, unset: boolean) => {
    const config = { ...(wf.config ?? {}) };
    if (unset) delete config[name];
    else config[name] = value;
    const next: WfNode = { ...wf, config };
    if (Object.keys(config).length === 0) delete next.config;
    onNode(wf.id, next, `cfg:${wf.id}:${name}`);
  };
  const setTop = (name: 'name' | 'timeout', value: string) => {
    const next: WfNode = { ...wf };
    if (value === '') delete next[name];
    else next[name] = value;
    onNode(wf.id, next, `top:${wf.id}:${name}`);
  };
  return (
    <aside className="dz-insp" aria-label={`Settings of node ${wf.id}`}>
      <header>
        <div className={`dz-chip cat-${spec?.category ?? 'unknown'}`}>{spec?.category ?? 'unknown type'}</div>
        <h2>{wf.type}</h2>
        <p className="dz-muted">{spec?.description ?? `No node type “${wf.type}” on this node's executor.`}</p>
      </header>
      {general.length > 0 && (
        <ul className="dz-problems" role="alert">
          {general.map((p, i) => <li key={i}><b>{p.field}</b> {p.message}</li>)}
        </ul>
      )}
      <div className="dz-form">
        <IdField id={wf.id} onRename={onRename} />
        <Row label="display name" hint="shown on the canvas and in progress output">
          <input value={wf.name ?? ''} onChange={(e) => setTop('name', e.target.value)} aria-label="display name" />
        </Row>
        {formFields(spec?.config_schema).length > 0 && <h3 className="dz-sec">Config</h3>}
        {formFields(spec?.config_schema).map((f) => (
          <ConfigField key={`${wf.id}:${f.name}`} field={f} value={wf.config?.[f.name]}
            problem={mine.find((p) => p.field === f.name)?.message} vars={vars} secrets={secrets}
            onValue={(v, unset) => setConfig(f.name, v, unset)} />
        ))}
        <h3 className="dz-sec">Every node</h3>
        <Row label="timeout" hint={types?.common.find((c) => c.name === 'timeout')?.description}
          problem={mine.find((p) => p.field === 'timeout')?.message}>
          <input value={wf.timeout ?? ''} placeholder="e.g. 30s" onChange={(e) => setTop('timeout', e.target.value)} aria-label="timeout" />
        </Row>
        <RetryField wf={wf} problem={mine.find((p) => p.field.startsWith('retry'))?.message} onNode={onNode} />
      </div>
    </aside>
  );
}

function Row({ label, hint, problem, required, children }: { label: string; hint?: string; problem?: string; required?: boolean; children: React.ReactNode }) {
  return (
    <label className={`dz-row${problem ? ' bad' : ''}`}>
      <span className="l">{label}{required && <i aria-label="required"> *</i>}</span>
      {children}
      {problem && <span className="err" role="alert">{problem}</span>}
      {hint && <span className="h">{hint}</span>}
    </label>
  );
}

function IdField({ id, onRename }: { id: string; onRename: (from: string, to: string) => string | undefined }) {
  const [text, setText] = useState(id);
  const [err, setErr] = useState<string>();
  useEffect(() => { setText(id); setErr(undefined); }, [id]);
  const apply = () => setErr(onRename(id, text.trim()));
  return (
    <Row label="id" hint="connections and the run's log name the node by it" problem={err}>
      <input value={text} className="mono" aria-label="node id" onChange={(e) => setText(e.target.value)} onBlur={apply}
        onKeyDown={(e) => { if (e.key === 'Enter') apply(); }} />
    </Row>
  );
}

function ConfigField({ field: f, value, problem, vars, secrets, onValue }: {
  field: FormField; value: unknown; problem?: string; vars: string[]; secrets: string[];
  onValue: (v: unknown, unset: boolean) => void;
}) {
  const [text, setText] = useState(() => formatValue(f, value));
  const [local, setLocal] = useState<string>();
  useEffect(() => {
    // Follow a change from elsewhere (undo, paste), not our own typing.
    const mine = parseInput(f, text);
    if (JSON.stringify(mine.unset ? undefined : mine.value) !== JSON.stringify(value)) {
      setText(formatValue(f, value));
      setLocal(undefined);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  const change = (t: string) => {
    setText(t);
    const r = parseInput(f, t);
    setLocal(r.error);
    if (r.unset) onValue(undefined, true);
    else if (r.value !== undefined) onValue(r.value, false);
  };
  const id = `f-${f.name}`;
  const common = { id, 'aria-label': f.name, 'aria-invalid': !!(problem || local), name: f.name };
  let control;
  switch (f.control) {
    case 'select':
      control = (
        <select {...common} value={text} onChange={(e) => change(e.target.value)}>
          <option value="">{f.placeholder || '—'}</option>
          {f.options!.map((o) => <option key={o} value={o}>{o}</option>)}
          {text && !f.options!.includes(text) && <option value={text}>{text}</option>}
        </select>
      );
      break;
    case 'boolean':
      control = (
        <select {...common} value={text} onChange={(e) => change(e.target.value)}>
          <option value="">{f.placeholder || '—'}</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      );
      break;
    case 'textarea':
    case 'code':
    case 'json':
      control = <textarea {...common} className={f.control !== 'textarea' ? 'mono' : ''} rows={f.control === 'json' ? 4 : 2}
        placeholder={f.placeholder} value={text} onChange={(e) => change(e.target.value)} spellCheck={false} />;
      break;
    default:
      control = <input {...common} className={f.kind === 'duration' || f.kind === 'variable' ? 'mono' : ''} inputMode={f.control === 'number' ? 'decimal' : undefined}
        placeholder={f.placeholder} value={text} onChange={(e) => change(e.target.value)} spellCheck={false} />;
  }
  const hint = [f.description, f.template && text.includes('{{') ? templateHint(vars, secrets) : ''].filter(Boolean).join(' · ');
  return (
    <Row label={`${f.label}`} required={f.required} problem={problem ?? local} hint={hint}>
      <span className="dz-kind">{f.kind}{f.template ? ' · {{ }}' : ''}</span>
      {control}
    </Row>
  );
}

function templateHint(vars: string[], secrets: string[]): string {
  const v = vars.length ? `variables: ${vars.join(', ')}` : 'no variables known yet';
  const s = secrets.length ? `; secrets: ${secrets.map((n) => `secret("${n}")`).join(', ')}` : '; secret("NAME") reads the vault';
  return `{{ expression }} with ${v}${s}`;
}

function RetryField({ wf, problem, onNode }: { wf: WfNode; problem?: string; onNode: (id: string, wf: WfNode, key: string) => void }) {
  const r = (typeof wf.retry === 'number' ? { max: wf.retry } : (wf.retry as { max?: number; backoff?: string } | undefined)) ?? {};
  const set = (max: string, backoff: string) => {
    const next: WfNode = { ...wf };
    const n = Number(max);
    if (max === '' && backoff === '') delete next.retry;
    else next.retry = { max: Number.isFinite(n) && max !== '' ? n : max, ...(backoff ? { backoff } : {}) };
    onNode(wf.id, next, `retry:${wf.id}`);
  };
  return (
    <Row label="retry" hint="retries of a failing node; the wait doubles from backoff" problem={problem}>
      <span className="dz-pair">
        <input aria-label="retry max" placeholder="max, e.g. 3" value={r.max ?? ''} onChange={(e) => set(e.target.value, r.backoff ?? '')} />
        <input aria-label="retry backoff" className="mono" placeholder="backoff, e.g. 2s" value={r.backoff ?? ''} onChange={(e) => set(String(r.max ?? ''), e.target.value)} />
      </span>
    </Row>
  );
}

function WorkflowPanel({ head, problems, count, onHead, onSelect }: {
  head: Head; problems: Problem[]; count: { nodes: number; edges: number; selected: number };
  onHead: (h: Head, key: string) => void; onSelect: (id: string) => void;
}) {
  const [vars, setVars] = useState(() => JSON.stringify(head.variables ?? {}, null, 2));
  const [varsErr, setVarsErr] = useState<string>();
  useEffect(() => { setVars(JSON.stringify(head.variables ?? {}, null, 2)); }, [head.variables]);
  return (
    <aside className="dz-insp" aria-label="Workflow settings">
      <header>
        <div className="dz-chip">workflow</div>
        <h2>{head.name || 'Untitled'}</h2>
        <p className="dz-muted">{count.nodes} nodes · {count.edges} connections{count.selected > 1 ? ` · ${count.selected} selected` : ''}</p>
      </header>
      <div className="dz-form">
        <Row label="description">
          <textarea rows={2} value={head.description ?? ''} aria-label="description" onChange={(e) => {
            const h: Head = { ...head, description: e.target.value };
            if (!e.target.value) delete h.description;
            onHead(h, 'description');
          }} />
        </Row>
        <Row label="variables" hint="JSON object; a job's parameters override them" problem={varsErr}>
          <textarea className="mono" rows={4} value={vars} aria-label="variables" spellCheck={false} onChange={(e) => {
            setVars(e.target.value);
            try {
              const v = JSON.parse(e.target.value || '{}');
              if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('want a JSON object');
              setVarsErr(undefined);
              const h: Head = { ...head, variables: v };
              if (Object.keys(v).length === 0) delete h.variables;
              onHead(h, 'variables');
            } catch (err) {
              setVarsErr(err instanceof SyntaxError ? 'not JSON' : (err as Error).message);
            }
          }} />
        </Row>
        <h3 className="dz-sec">Problems {problems.length > 0 && <span className="dz-count bad">{problems.length}</span>}</h3>
        {problems.length === 0 ? <p className="dz-ok">The validator finds nothing wrong.</p> : (
          <ul className="dz-problems list">
            {problems.map((p, i) => (
              <li key={i}>
                {p.node_id ? <button type="button" className="linkish" onClick={() => onSelect(p.node_id!)}>{p.node_id}</button> : <b>workflow</b>}
                {' '}<b>{p.field}</b> {p.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    </aside>
  );
}
