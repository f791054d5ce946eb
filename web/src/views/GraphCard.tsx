import { lazy, Suspense, type ReactNode } from 'react';
import { Card, Empty, Loading } from '../components/ui';
import type { NodeRunState } from '../lib/derive';
import type { WorkflowGraph } from '../api/types';

const Graph = lazy(() => import('./WorkflowGraph'));

const legend: NodeRunState[] = ['done', 'running', 'retrying', 'failed', 'skipped', 'pending'];

export function GraphCard({ graph, states, title = 'Workflow graph', hint, actions }: {
  graph?: WorkflowGraph; states?: Record<string, NodeRunState>; title?: string; hint?: ReactNode; actions?: ReactNode;
}) {
  return (
    <Card flush id="graph" title={title} actions={actions} hint={hint ?? (states && (
      <span className="legend" aria-label="Legend">
        {legend.map((s) => <span key={s}><i className={`lg-${s}`} />{s}</span>)}
      </span>
    ))}>
      {!graph ? <Loading rows={3} label="Loading the workflow graph" /> : graph.nodes?.length ? (
        <div className="graph-box">
          <Suspense fallback={<Loading rows={3} label="Loading the graph view" />}>
            <Graph graph={graph} states={states} />
          </Suspense>
        </div>
      ) : <Empty title="This workflow has no nodes" />}
    </Card>
  );
}
