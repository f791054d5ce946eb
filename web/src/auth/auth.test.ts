import { describe, expect, it } from 'vitest';
import { allows, safeNext, signInPath } from './auth';

describe('roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(allows('viewer', 'viewer')).toBe(true);
    expect(allows('viewer', 'operator')).toBe(false);
    expect(allows('operator', 'operator')).toBe(true);
    expect(allows('operator', 'admin')).toBe(false);
    expect(allows('admin', 'operator')).toBe(true);
    expect(allows(undefined, 'viewer')).toBe(false);
  });
});

describe('sign-in redirects', () => {
  it('returns only to a path on this origin', () => {
    expect(safeNext('/jobs?state=failed')).toBe('/jobs?state=failed');
    expect(safeNext('//evil.example/x')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('https://evil.example')).toBe('/');
    expect(safeNext(null)).toBe('/');
  });
  it('keeps where the user was', () => {
    expect(signInPath('/jobs/j1#log')).toBe('/signin?next=%2Fjobs%2Fj1%23log');
  });
});
