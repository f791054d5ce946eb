// The wire form of GET /api/v1/node-types and POST
// /api/v1/workflows/validate (api/wire/nodetypes.go).

export interface PortSpec {
  /** The connection's port: "" for the normal exit, "in" for the input. */
  name: string;
  kind: 'in' | 'next' | 'branch' | 'error';
}

/** A JSON Schema property as the executor writes it (executor/jsonschema.go). */
export interface FieldSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  description?: string;
  enum?: string[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  'x-casare-type': string;
  'x-template': boolean;
}

export interface ConfigSchema {
  type: 'object';
  properties: Record<string, FieldSchema>;
  required: string[];
}

export interface NodeTypeSpec {
  name: string;
  category: string;
  description: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
  config_schema: ConfigSchema;
}

export interface NodeTypeList {
  node_types: NodeTypeSpec[];
  common: { name: string; type: string; description: string }[];
  error_variables: Record<string, string>;
}

export interface Problem {
  node_id?: string;
  field: string;
  message: string;
}

export interface ValidateResponse {
  valid: boolean;
  problems: Problem[];
  error?: string;
  nodes: number;
  connections: number;
}

/** One node of a workflow, every field `casare run` accepts. */
export interface WfNode {
  id: string;
  type: string;
  name?: string;
  config?: Record<string, unknown>;
  timeout?: string;
  retry?: unknown;
  meta?: Record<string, unknown>;
}

export interface WfConnection {
  from: string;
  to: string;
  port?: string;
}

/** A whole workflow document; unknown top-level fields are kept as they are. */
export interface WfDoc {
  name: string;
  description?: string;
  variables?: Record<string, unknown>;
  secret_variables?: string[];
  nodes: WfNode[];
  connections: WfConnection[];
  limits?: unknown;
  meta?: Record<string, unknown>;
}
