import { describe, expect, it } from 'vitest';
import { targetsOf } from './Run';
import type { Robot } from '../api/types';

const robot = (id: string, kind: Robot['kind'], state: Robot['state'], node = id): Robot => ({
  id, name: id, kind, state, node, tags: [], capacity: 1, current_jobs: [], drained: false,
});

describe('run targets', () => {
  const robots = [
    robot('n1', 'lan', 'alive'), robot('n2', 'lan', 'dead'), robot('n3', 'lan', 'alive'),
    robot('laptop', 'internet', 'alive', 'n1'), robot('kiosk', 'internet', 'disconnected', 'n3'),
  ];

  it('pins Run Local to the serving node\'s own LAN robot', () => {
    const t = targetsOf('n1', robots);
    expect(t.local?.id).toBe('n1');
    expect(t.lan.map((r) => r.id)).toEqual(['n1', 'n3']);
    expect(t.internet.map((r) => r.id)).toEqual(['laptop']);
  });

  it('has no local target on a node without a live robot', () => {
    expect(targetsOf('n2', robots).local).toBeUndefined();
    expect(targetsOf('n9', robots).local).toBeUndefined();
    expect(targetsOf(undefined, robots).local).toBeUndefined();
    // An internet robot named like the node is not the node's robot.
    expect(targetsOf('laptop', robots).local).toBeUndefined();
  });
});
