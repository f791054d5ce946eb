// The API reference at /docs: the node's OpenAPI document rendered by
// Swagger UI. This module and Swagger UI are a chunk of their own, loaded
// only when /docs is opened, so the first view stays small.

import { useEffect, useRef } from 'react';
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-es-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';
import { PageHeader } from '../components/ui';
import './docs.css';

/**
 * ApiDocs renders /api/v1/openapi.json. "Try it out" calls this node with
 * the page's session cookie, so it acts as the signed-in user; Authorize
 * takes a token instead, kept in this tab only.
 */
export default function ApiDocs() {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    SwaggerUIBundle({
      domNode: box.current,
      url: '/api/v1/openapi.json',
      docExpansion: 'list',
      defaultModelsExpandDepth: -1,
      displayRequestDuration: true,
      filter: true,
      deepLinking: false,
      // Same-origin calls carry the HttpOnly session cookie.
      requestInterceptor: (req) => ({ ...req, credentials: 'same-origin' }),
    });
  }, []);
  return (
    <>
      <PageHeader title="API" sub={<>The REST API of every node, from <a href="/api/v1/openapi.json">openapi.json</a>. <em>Try it out</em> calls this node as you are signed in.</>} />
      <div className="content">
        <div className="card api-docs"><div ref={box} /></div>
      </div>
    </>
  );
}
