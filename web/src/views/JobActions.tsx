import { useNavigate } from 'react-router';
import { useAction } from '../components/actions';
import { terminalStates, type Job } from '../api/types';
import { useCan } from '../auth/auth';

/** Cancel for an unfinished job; re-run (same or latest version) for a finished one. */
export function JobActions({ job, size = 'sm', latest = false, openNew = false }: { job: Job; size?: 'sm' | ''; latest?: boolean; openNew?: boolean }) {
  const { busy, run } = useAction();
  const navigate = useNavigate();
  const canOperate = useCan('operator');
  const finished = terminalStates.includes(job.state);
  const cls = `btn ${size}`;
  async function rerun(latestVersion: boolean) {
    const r = await run('rerun', (c) => c.rerunJob(job.id, latestVersion), {
      ok: (j) => `Queued re-run ${j.id} (version ${j.workflow_version}).`,
      link: (j) => ({ to: `/jobs/${j.id}`, label: 'Open' }),
      invalidate: ['jobs:', 'queue'],
    });
    if (r && openNew) navigate(`/jobs/${r.id}`);
  }
  if (!canOperate) return null; // a viewer would be refused
  if (!finished) {
    return (
      <button type="button" className={`${cls} danger`} disabled={busy !== null}
        aria-label={`Cancel job ${job.id}`}
        onClick={() => {
          if (!window.confirm(`Cancel job ${job.id}? A running job is stopped on its robot.`)) return;
          void run('cancel', (c) => c.cancelJob(job.id, 'cancelled from the dashboard'), {
            ok: () => `Cancelled job ${job.id}.`, invalidate: ['jobs:', 'queue'],
          });
        }}>Cancel</button>
    );
  }
  return (
    <>
      <button type="button" className={cls} disabled={busy !== null} aria-label={`Re-run job ${job.id}`} onClick={() => void rerun(false)}>Re-run</button>
      {latest && <button type="button" className={cls} disabled={busy !== null} onClick={() => void rerun(true)}>Re-run latest version</button>}
    </>
  );
}
