import { lazy, Suspense } from 'react';
import { Loading } from '../components/ui';

const ApiDocs = lazy(() => import('./ApiDocs'));

/** docsRoute is /docs, whose renderer loads only when it is opened. */
export const docsRoute = {
  path: '/docs',
  element: <Suspense fallback={<Loading rows={6} label="Loading the API reference" />}><ApiDocs /></Suspense>,
};
