import { useEffect, useState } from 'react';
import { useClient } from '../live/hooks';
import { ApiError } from '../api/client';
import type { SchedulePreview } from '../api/types';

/** How long typing must pause before the preview asks the node. */
const previewDebounceMs = 250;

export type PreviewState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ok'; preview: SchedulePreview }
  | { kind: 'error'; field: string; message: string };

/**
 * useSchedulePreview asks the node for the next fire times of what the
 * user types, computed by the scheduler's own code, so the page and the
 * scheduler never disagree. Only the newest answer counts.
 */
export function useSchedulePreview(cron: string, timezone: string): PreviewState {
  const client = useClient();
  const [state, setState] = useState<PreviewState>({ kind: 'idle' });
  useEffect(() => {
    if (!cron.trim()) {
      setState({ kind: 'idle' });
      return;
    }
    const ctl = new AbortController();
    setState((s) => (s.kind === 'ok' ? s : { kind: 'loading' }));
    const t = setTimeout(() => {
      client.previewSchedule(cron.trim(), timezone.trim(), ctl.signal).then(
        (preview) => setState({ kind: 'ok', preview }),
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          const field = err instanceof ApiError && typeof err.details.field === 'string' ? err.details.field : 'cron';
          setState({ kind: 'error', field, message: err instanceof Error ? err.message : String(err) });
        },
      );
    }, previewDebounceMs);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [client, cron, timezone]);
  return state;
}

/** The next five fire times, in the schedule's zone. */
export function PreviewList({ state }: { state: PreviewState }) {
  if (state.kind !== 'ok') return null;
  const { preview } = state;
  return (
    <div className="preview" aria-live="polite">
      <span className="muted">Next fire times ({preview.timezone}):</span>
      <ol className="fires">
        {preview.next.map((t) => <li className="fire" key={t}><time dateTime={t}>{inZone(t, preview.timezone)}</time></li>)}
      </ol>
    </div>
  );
}

/** inZone shows an instant as the wall-clock time of a zone. */
export function inZone(iso: string, zone: string): string {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone: zone || 'UTC', weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).format(new Date(iso));
  } catch {
    return new Date(iso).toISOString();
  }
}
