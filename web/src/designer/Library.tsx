// The node library: every node type by category, searchable; drag one
// onto the canvas, or press Enter on it to add it beside the selection.

import { memo, useMemo, useState } from 'react';
import type { NodeTypeSpec } from './types';

export const dragType = 'application/x-casare-node';

export const Library = memo(function Library({ types, onAdd }: { types: NodeTypeSpec[]; onAdd: (type: string) => void }) {
  const [q, setQ] = useState('');
  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const out = new Map<string, NodeTypeSpec[]>();
    for (const t of types) {
      if (needle && !`${t.name} ${t.category} ${t.description}`.toLowerCase().includes(needle)) continue;
      out.set(t.category, [...(out.get(t.category) ?? []), t]);
    }
    return [...out.entries()];
  }, [types, q]);
  return (
    <aside className="dz-lib" aria-label="Node library">
      <div className="dz-lib-search">
        <input type="search" placeholder={`Search ${types.length} nodes`} value={q} onChange={(e) => setQ(e.target.value)}
          aria-label="Search the node library" onKeyDown={(e) => {
            if (e.key === 'Enter' && groups.length > 0) onAdd(groups[0][1][0].name);
          }} />
      </div>
      <div className="dz-lib-list">
        {groups.length === 0 && <p className="dz-muted">No node type matches “{q}”.</p>}
        {groups.map(([cat, list]) => (
          <section key={cat}>
            <h3>{cat}<span>{list.length}</span></h3>
            {list.map((t) => (
              <button type="button" key={t.name} className={`dz-lib-item cat-${t.category}`} draggable data-type={t.name}
                title={`${t.description}\nDrag onto the canvas, or click to add.`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(dragType, t.name);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onClick={() => onAdd(t.name)}>
                <span className="n">{t.name}</span>
                <span className="d">{t.description}</span>
              </button>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
});
