import { useEffect, useRef } from 'react';
import { useReactFlow, useStore } from '@xyflow/react';
import { recentred, type Size } from './viewport';

/**
 * KeepCentred keeps what is at the middle of the canvas at its middle when
 * the canvas changes size. The debugger and the run's log open below the
 * canvas and shrink it; without this the graph stayed where the taller
 * canvas had centred it and ended up against the panel's edge. Zoom and
 * any pan of the user's are kept: only the centre moves with the box.
 */
export default function KeepCentred() {
  const { getViewport, setViewport } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const last = useRef<Size>({ width: 0, height: 0 });
  useEffect(() => {
    const prev = last.current;
    last.current = { width, height };
    const v = getViewport();
    const next = recentred(v, prev, { width, height });
    if (next !== v && (next.x !== v.x || next.y !== v.y)) void setViewport(next);
  }, [width, height, getViewport, setViewport]);
  return null;
}
