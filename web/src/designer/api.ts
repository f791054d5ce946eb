// The designer's calls, through the app's one API client.

import { apiBase, type Client } from '../api/client';
import type { CreateWorkflowResponse } from '../api/types';
import type { NodeTypeList, ValidateResponse, WfDoc } from './types';

export function nodeTypes(c: Client, signal?: AbortSignal): Promise<NodeTypeList> {
  return c.request(`${apiBase}/node-types`, { signal });
}

export function validate(c: Client, doc: WfDoc, signal?: AbortSignal): Promise<ValidateResponse> {
  return c.request(`${apiBase}/workflows/validate`, { method: 'POST', body: { workflow_json: doc }, signal });
}

/** save stores doc as a new version (a new workflow if no workflow has its name); it queues nothing. */
export function save(c: Client, doc: WfDoc): Promise<CreateWorkflowResponse> {
  return c.request(`${apiBase}/workflows`, { method: 'POST', body: { workflow_name: doc.name, workflow_json: doc, trigger_type: 'none' } });
}
