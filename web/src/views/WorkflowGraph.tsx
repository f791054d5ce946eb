// The workflow graph, drawn with React Flow. This module and React Flow
// are loaded only by the views that draw a graph (lazy import), so the
// first view stays small.

import { useEffect, useMemo } from 'react';
import { Background, Controls, Handle, MarkerType, Position, ReactFlow, useNodesInitialized, useReactFlow, useStore, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { layoutGraph } from '../lib/layout';
import type { NodeRunState } from '../lib/derive';
import type { WorkflowGraph as Graph } from '../api/types';

type StepData = { label: string; kind: string; state?: NodeRunState };

function Step({ data }: NodeProps<Node<StepData>>) {
  const st = data.state;
  return (
    <div className={`gnode${st ? ` st-${st}` : ''}`} aria-label={`${data.label} (${data.kind})${st ? `: ${st}` : ''}`}>
      <Handle type="target" position={Position.Left} />
      <div className="gtype"><span>{data.kind}</span>{st && <span>{st}</span>}</div>
      <div className="gid" title={data.label}>{data.label}</div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { step: Step };

const fitOptions = { padding: 0.12, maxZoom: 1.1, minZoom: 0.1 };

/**
 * Refit fits the graph again whenever its box changes size (a phone
 * turned, the sidebar folded) or its nodes have been measured: fitView
 * on mount alone ran before the box had its final size on narrow screens.
 */
function Refit() {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const ready = useNodesInitialized();
  useEffect(() => {
    if (ready && width > 0 && height > 0) void fitView(fitOptions);
  }, [ready, width, height, fitView]);
  return null;
}

const edgeColour: Record<string, string> = { error: '#c62828', false: '#b45309', true: '#138a4e', body: '#2563eb', done: '#6b7280' };

export default function WorkflowGraph({ graph, states }: { graph: Graph; states?: Record<string, NodeRunState> }) {
  const { nodes, edges } = useMemo(() => {
    const laid = layoutGraph(graph);
    const nodes: Node<StepData>[] = laid.nodes.map((n) => ({
      id: n.id, type: 'step', position: { x: n.x, y: n.y },
      data: { label: n.id, kind: n.type, state: states?.[n.id] },
      draggable: false, connectable: false,
    }));
    const edges: Edge[] = laid.edges.map((e) => {
      const colour = (e.port && edgeColour[e.port]) || '#98a2b3';
      const ranOver = states && states[e.source] === 'done' && states[e.target] && states[e.target] !== 'pending' && states[e.target] !== 'skipped';
      return {
        id: e.id, source: e.source, target: e.target, label: e.port, type: e.back ? 'smoothstep' : 'default',
        animated: !!states && states[e.target] === 'running' && states[e.source] === 'done',
        style: { stroke: colour, strokeWidth: ranOver ? 2.2 : 1.4, strokeDasharray: e.back ? '5 4' : undefined },
        markerEnd: { type: MarkerType.ArrowClosed, color: colour },
        labelStyle: { fontSize: 11, fill: colour, fontWeight: 600 },
        labelBgStyle: { fill: '#f9fafc' },
      };
    });
    return { nodes, edges };
  }, [graph, states]);
  return (
    <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} fitView fitViewOptions={fitOptions}
      nodesDraggable={false} nodesConnectable={false} elementsSelectable={false} proOptions={{ hideAttribution: true }}
      minZoom={0.1} aria-label="Workflow graph">
      <Background gap={20} color="#e3e6ee" />
      <Controls showInteractive={false} />
      <Refit />
    </ReactFlow>
  );
}
