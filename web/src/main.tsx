import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { Client } from './api/client';
import { LiveRegistry } from './live/store';
import { ServicesContext } from './live/hooks';
import { EventStream, eventsURL } from './live/events';
import { Layout } from './views/Layout';
import { Overview } from './views/Overview';
import { Robots } from './views/Robots';
import { Jobs } from './views/Jobs';
import { JobDetail } from './views/JobDetail';
import { Workflows } from './views/Workflows';
import { WorkflowDetail } from './views/WorkflowDetail';
import { Schedules } from './views/Schedules';
import { Secrets } from './views/Secrets';
import { Cluster } from './views/Cluster';
import { NotFound } from './views/NotFound';
import { SignIn } from './views/SignIn';
import { docsRoute } from './docs/route';
import './styles.css';

// The designer and React Flow are their own chunk, loaded on /designer only.
const Designer = lazy(() => import('./designer/Designer'));
const designer = <Suspense fallback={null}><Designer /></Suspense>;

// Every path here is also answered with index.html by the Go server
// (package web), so a reload or a shared link lands on the same view.
const router = createBrowserRouter([
  { path: '/signin', element: <SignIn /> },
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Overview /> },
      { path: '/robots', element: <Robots /> },
      { path: '/jobs', element: <Jobs /> },
      { path: '/jobs/:id', element: <JobDetail /> },
      { path: '/workflows', element: <Workflows /> },
      { path: '/workflows/:id', element: <WorkflowDetail /> },
      { path: '/schedules', element: <Schedules /> },
      { path: '/secrets', element: <Secrets /> },
      { path: '/cluster', element: <Cluster /> },
      { path: '/designer', element: designer },
      { path: '/designer/:id', element: designer },
      docsRoute,
      { path: '*', element: <NotFound /> },
    ],
  },
]);

const live = new LiveRegistry();
const events = new EventStream(live, eventsURL(window.location), (url) => new WebSocket(url));
events.start();
const services = { client: new Client(), live, events };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ServicesContext.Provider value={services}>
      <RouterProvider router={router} />
    </ServicesContext.Provider>
  </StrictMode>,
);
