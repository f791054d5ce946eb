import { useState } from 'react';
import { Card, Empty } from '../components/ui';
import { diffGraphs, isEmpty } from '../lib/graphdiff';
import type { WorkflowVersion } from '../api/types';
import './VersionDiff.css';

/** VersionDiff compares two versions of a workflow (newest first in vs). */
export function VersionDiff({ vs }: { vs: WorkflowVersion[] }) {
  const [newer, setNewer] = useState<number | null>(null);
  const [older, setOlder] = useState<number | null>(null);
  if (vs.length < 2) {
    return (
      <Card title="Changes between versions" id="diff">
        <Empty title="Only one version">Store the workflow again under the same name to add a version.</Empty>
      </Card>
    );
  }
  const b = vs.find((v) => v.version === newer) ?? vs[0];
  const a = vs.find((v) => v.version === older) ?? vs[1];
  const d = diffGraphs(a.graph, b.graph);
  const pick = (label: string, value: number, set: (v: number) => void) => (
    <label className="field" style={{ minWidth: 110 }}><span>{label}</span>
      <select value={value} onChange={(e) => set(Number(e.target.value))}>
        {vs.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
      </select>
    </label>
  );
  const rows: [string, string, string[]][] = [
    ['added', 'Nodes added', d.addedNodes],
    ['removed', 'Nodes removed', d.removedNodes],
    ['changed', 'Nodes changed', d.changedNodes.map((c) => `${c.id}: ${c.what.join(', ')}`)],
    ['added', 'Connections added', d.addedConnections],
    ['removed', 'Connections removed', d.removedConnections],
    ['changed', 'Variables changed', d.changedVariables],
  ];
  return (
    <Card title="Changes between versions" id="diff" actions={<div className="filters">{pick('From', a.version, setOlder)}{pick('To', b.version, setNewer)}</div>}>
      {isEmpty(d) ? <span className="muted">v{a.version} and v{b.version} are the same graph.</span> : (
        <dl className="kv diff">
          {rows.filter(([, , items]) => items.length > 0).map(([kind, label, items]) => (
            <div key={label} style={{ display: 'contents' }}>
              <dt>{label}</dt>
              <dd><span className="tags">{items.map((i) => <code key={i} className={`diff-${kind}`}>{i}</code>)}</span></dd>
            </div>
          ))}
        </dl>
      )}
    </Card>
  );
}
