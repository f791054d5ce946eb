// A workflow node on the canvas: its type, id, ports as handles (the
// normal exit, named branch ports, the error port) and what the
// validator or a run says about it.

import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import type { StepNode as StepNodeT } from './model';
import type { NodeTypeSpec } from './types';

/** Node types by name, handed to every node through module state of the canvas. */
export type TypeIndex = Map<string, NodeTypeSpec>;

const runLabel: Record<string, string> = { running: 'running', done: 'done', failed: 'failed', retrying: 'retrying', skipped: 'skipped', pending: 'pending' };

export function makeStepNode(types: () => TypeIndex) {
  return memo(function Step({ data, selected }: NodeProps<StepNodeT>) {
    const spec = types().get(data.wf.type);
    const outputs = spec?.outputs ?? [{ name: '', kind: 'next' as const }];
    const problems = data.problems ?? [];
    const cls = ['dz-node', `cat-${spec?.category ?? 'unknown'}`, selected ? 'sel' : '', problems.length ? 'bad' : '', data.run ? `run-${data.run}` : '', data.breakpoint ? 'bp' : '', data.paused ? 'paused' : ''].join(' ');
    return (
      <div className={cls} data-node-id={data.wf.id} aria-label={`${data.wf.id} (${data.wf.type})${problems.length ? `: ${problems.length} problem(s)` : ''}${data.run ? `: ${data.run}` : ''}${data.breakpoint ? ': breakpoint' : ''}${data.paused ? ': paused here' : ''}`}>
        {spec?.inputs.length !== 0 && <Handle type="target" id="in" position={Position.Left} className="dz-in" />}
        <div className="dz-head">
          <span className="dz-type">{data.wf.type}</span>
          {data.run && <span className={`dz-run r-${data.run}`}>{runLabel[data.run] ?? data.run}</span>}
        </div>
        <div className="dz-title" title={data.wf.name || data.wf.id}>{data.wf.name || data.wf.id}</div>
        {data.wf.name && <div className="dz-sub">{data.wf.id}</div>}
        {problems.length > 0 && (
          <div className="dz-problem" role="alert" title={problems.map((p) => `${p.field}: ${p.message}`).join('\n')}>
            {problems[0].field}: {problems[0].message}{problems.length > 1 ? ` (+${problems.length - 1})` : ''}
          </div>
        )}
        {outputs.length > 0 && (
          <div className="dz-ports">
            {outputs.map((p) => (
              <div key={p.name || 'next'} className={`dz-port k-${p.kind} p-${p.name || 'next'}`}>
                <span>{p.kind === 'next' ? 'next' : p.name}</span>
                <Handle type="source" id={p.name || 'next'} position={Position.Right} className={`dz-out k-${p.kind}`} />
              </div>
            ))}
          </div>
        )}
      </div>
    );
  });
}
