// Who the page is signed in as, and what that role may do. The page
// hides what its role would be refused (a viewer sees no action
// buttons); the API refuses it anyway.

import { createContext, useContext, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { ApiError } from '../api/client';
import type { Role, WhoAmI } from '../api/types';
import { Loading } from '../components/ui';
import { useLive } from '../live/hooks';

const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** allows reports whether role may do what needs role need. */
export function allows(role: Role | undefined, need: Role): boolean {
  return role !== undefined && (rank[role] ?? 0) >= rank[need];
}

const AuthContext = createContext<WhoAmI | null>(null);

/** useWho is the signed-in credential; only inside RequireAuth. */
export function useWho(): WhoAmI | null {
  return useContext(AuthContext);
}

/** useCan reports whether the signed-in role may do what needs role need. */
export function useCan(need: Role): boolean {
  return allows(useWho()?.role, need);
}

/** Can renders its children only for a role that may do what needs role need. */
export function Can({ need, children }: { need: Role; children: ReactNode }) {
  return useCan(need) ? <>{children}</> : null;
}

/**
 * signInPath is the sign-in page that returns to path afterwards. Only a
 * path on this origin is kept, so a link cannot send a user elsewhere.
 */
export function signInPath(path: string): string {
  return `/signin?next=${encodeURIComponent(path)}`;
}

/** safeNext returns next if it is a path on this origin, else '/'. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

/** How often the page checks its session is still valid: it may be revoked. */
const whoamiMs = 30_000;

/**
 * RequireAuth shows its children to a signed-in page and sends any other
 * to the sign-in page, coming back here afterwards.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const who = useLive('whoami', (c) => c.whoami(), whoamiMs);
  const loc = useLocation();
  if (who.error instanceof ApiError && who.error.status === 401) {
    return <Navigate to={signInPath(loc.pathname + loc.search + loc.hash)} replace />;
  }
  if (!who.data && !who.error) return <Loading label="Checking sign-in" />;
  return <AuthContext.Provider value={who.data ?? null}>{children}</AuthContext.Provider>;
}
