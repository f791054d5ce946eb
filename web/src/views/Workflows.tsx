import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { Card, Empty, LiveBody, PageHeader, Tags, Time, useNow } from '../components/ui';
import { useAction } from '../components/actions';
import { useLive } from '../live/hooks';
import type { ExecutionMode, WorkflowList } from '../api/types';
import { Can } from '../auth/auth';

export function Workflows() {
  const now = useNow();
  const workflows = useLive('workflows', (c) => c.workflows());
  const [search, setSearch] = useState('');
  const q = search.trim().toLowerCase();
  return (
    <>
      <PageHeader title="Workflows" sub="Stored in the cluster; every version is kept" />
      <div className="content">
        <div className="grid wide-left">
          <Card flush id="wfs" title="All workflows" actions={
            <label className="sr-only-label">
              <span className="sr-only">Search workflows</span>
              <input type="text" placeholder="Search by name, id or tag" value={search} onChange={(e) => setSearch(e.target.value)} style={{ width: 240 }} />
            </label>
          }>
            <LiveBody<WorkflowList> snap={workflows} what="workflows" isEmpty={(d) => d.workflows.length === 0}
              empty={<Empty title="No workflows yet">Upload a workflow JSON file here, or <code>casare submit FILE</code>.</Empty>}>
              {(d) => {
                const rows = d.workflows
                  .filter((w) => !q || w.name.toLowerCase().includes(q) || w.id.toLowerCase().includes(q) || w.tags.some((t) => t.toLowerCase().includes(q)))
                  .sort((a, b) => a.name.localeCompare(b.name));
                if (rows.length === 0) return <Empty title={`No workflow matches "${search}"`} />;
                return (
                  <div className="table-wrap"><table>
                    <thead><tr><th>Name</th><th className="num">Latest</th><th>Tags</th><th>Updated</th><th><span className="sr-only">Actions</span></th></tr></thead>
                    <tbody>
                      {rows.map((w) => (
                        <tr key={w.id}>
                          <td><Link to={`/workflows/${encodeURIComponent(w.id)}`}><strong>{w.name}</strong></Link><div className="id muted">{w.id}</div></td>
                          <td className="num">v{w.latest_version}</td>
                          <td><Tags tags={w.tags} /></td>
                          <td><Time value={w.updated_at} now={now} /></td>
                          <td><div className="row-actions">
                            <Can need="operator"><Link className="btn sm" to={`/workflows/${encodeURIComponent(w.id)}#run`}>Run…</Link></Can>
                            <Link className="btn sm" to={`/jobs?workflow=${encodeURIComponent(w.id)}`}>Jobs</Link>
                          </div></td>
                        </tr>
                      ))}
                    </tbody>
                  </table></div>
                );
              }}
            </LiveBody>
          </Card>
          <Can need="operator">
            <Card title="Upload a workflow" hint="A JSON file as casare run accepts it; the same name adds a version" id="upload">
              <UploadForm />
            </Card>
          </Can>
        </div>
      </div>
    </>
  );
}

function UploadForm() {
  const file = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [runNow, setRunNow] = useState(false);
  const [mode, setMode] = useState<ExecutionMode>('any');
  const [error, setError] = useState('');
  const { busy, run } = useAction();

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const f = file.current?.files?.[0];
    if (!f) {
      setError('Choose a workflow JSON file');
      return;
    }
    setError('');
    const form = new FormData();
    form.set('file', f, f.name);
    if (name.trim()) form.set('workflow_name', name.trim());
    form.set('trigger_type', runNow ? 'manual' : 'none');
    form.set('execution_mode', mode);
    const r = await run('upload', (c) => c.uploadWorkflow(form), {
      ok: (r) => (r.created ? `Stored version ${r.version}.` : `Unchanged: version ${r.version} is the same graph.`) + (r.job_id ? ` Queued job ${r.job_id}.` : ''),
      link: (r) => (r.job_id ? { to: `/jobs/${r.job_id}`, label: 'Open job' } : { to: `/workflows/${r.workflow_id}`, label: 'Open workflow' }),
      invalidate: ['workflows', 'jobs:', 'queue'],
    });
    if (r && file.current) file.current.value = '';
  }
  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Upload a workflow">
      <label className="field"><span>Workflow file (.json)</span>
        <input ref={file} type="file" accept="application/json,.json" aria-invalid={error ? true : undefined} aria-describedby={error ? 'upload-err' : undefined} onChange={() => setError('')} />
        {error && <small className="err" id="upload-err">{error}</small>}
      </label>
      <label className="field"><span>Name</span>
        <input type="text" placeholder="from the file when empty" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="check"><input type="checkbox" checked={runNow} onChange={(e) => setRunNow(e.target.checked)} /> Run a job now</label>
      {runNow && (
        <label className="field"><span>Execution mode</span>
          <select value={mode} onChange={(e) => setMode(e.target.value as ExecutionMode)}>
            <option value="any">any robot</option><option value="lan">LAN robots</option><option value="internet">internet robots</option>
          </select>
        </label>
      )}
      <div className="form-actions"><button type="submit" className="btn primary" disabled={busy !== null}>{busy ? 'Uploading…' : 'Upload'}</button></div>
    </form>
  );
}
