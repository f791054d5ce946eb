import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { formatRelative, formatTime, shortId, toneOf } from '../lib/format';
import { Icon, type IconName } from './icons';

export function Badge({ state, label, plain }: { state: string; label?: string; plain?: boolean }) {
  const tone = toneOf(state);
  const pulse = state === 'running' ? ' pulse' : '';
  return <span className={`badge tone-${tone}${pulse}${plain ? ' plain' : ''}`}>{label ?? state}</span>;
}

export function Card({ title, hint, actions, children, flush, id }: {
  title?: ReactNode; hint?: ReactNode; actions?: ReactNode; children: ReactNode; flush?: boolean; id?: string;
}) {
  // A title that is not plain text (a filter bar) is no heading.
  const heading = typeof title === 'string';
  const headingId = id && heading ? `${id}-title` : undefined;
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      {(title || actions) && (
        <div className="card-head">
          <div>
            {title && (heading ? <h2 id={headingId}>{title}</h2> : title)}
            {hint && <div className="hint">{hint}</div>}
          </div>
          {actions && <div className="form-actions">{actions}</div>}
        </div>
      )}
      <div className={`card-body${flush ? ' flush' : ''}`}>{children}</div>
    </section>
  );
}

export function Stat({ label, value, foot, to }: { label: string; value: ReactNode; foot?: ReactNode; to?: string }) {
  const body = (
    <>
      <span className="label">{label}</span>
      <span className="value">{value}</span>
      {foot !== undefined && <span className="foot">{foot}</span>}
    </>
  );
  return to ? <Link className="card stat" to={to}>{body}</Link> : <div className="card stat">{body}</div>;
}

export function Empty({ icon = 'inbox', title, children }: { icon?: IconName; title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <Icon name={icon} />
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Loading({ rows = 4, label = 'Loading' }: { rows?: number; label?: string }) {
  return (
    <div className="loading-rows" role="status" aria-label={label}>
      {Array.from({ length: rows }, (_, i) => <div key={i} className="skeleton" style={{ width: `${90 - i * 12}%` }} />)}
    </div>
  );
}

export function ErrorBanner({ error, what }: { error: Error; what?: string }) {
  const status = error instanceof ApiError && error.status > 0 ? ` (${error.status} ${error.code})` : '';
  return (
    <div className="banner bad" role="alert">
      <Icon name="alert" />
      <div><strong>{what ? `Could not load ${what}` : 'Something went wrong'}{status}.</strong> {error.message}</div>
    </div>
  );
}

/** LiveBody shows loading, error and empty states around a live source's data. */
export function LiveBody<T>({ snap, what, isEmpty, empty, children }: {
  snap: { data?: T; error?: Error; loading: boolean };
  what: string;
  isEmpty?: (d: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (snap.data === undefined) {
    if (snap.error) return <div className="card-body"><ErrorBanner error={snap.error} what={what} /></div>;
    return <Loading label={`Loading ${what}`} />;
  }
  return (
    <>
      {snap.error && <div className="card-body"><ErrorBanner error={snap.error} what={`fresh ${what}; showing the last answer`} /></div>}
      {isEmpty?.(snap.data) ? empty : children(snap.data)}
    </>
  );
}

/** useNow re-renders every periodMs so relative times stay true. */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}

export function Time({ value, now }: { value?: string; now: number }) {
  if (!value) return <span className="muted">—</span>;
  return <time dateTime={value} title={formatTime(value)}>{formatRelative(value, now)}</time>;
}

export function JobLink({ id }: { id: string }) {
  return <Link className="id" to={`/jobs/${encodeURIComponent(id)}`} title={id}>{shortId(id, 12)}</Link>;
}

export function Tags({ tags }: { tags?: string[] }) {
  if (!tags || tags.length === 0) return <span className="muted">—</span>;
  return <span className="tags">{tags.map((t) => <span className="tag" key={t}>{t}</span>)}</span>;
}

export function PageHeader({ title, sub, crumbs, actions, docTitle }: { title: ReactNode; sub?: ReactNode; crumbs?: ReactNode; actions?: ReactNode; docTitle?: string }) {
  const tabTitle = docTitle ?? (typeof title === 'string' ? title : undefined);
  useEffect(() => {
    if (tabTitle) document.title = `${tabTitle} · Casare`;
  }, [tabTitle]);
  return (
    <header className="topbar">
      <div style={{ minWidth: 0 }}>
        {crumbs && <nav className="crumbs" aria-label="Breadcrumb">{crumbs}</nav>}
        <h1>{title}</h1>
        {sub && <div className="sub">{sub}</div>}
      </div>
      {actions && <div className="actions">{actions}</div>}
    </header>
  );
}
