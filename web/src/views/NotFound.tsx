import { Link } from 'react-router';
import { Empty, PageHeader } from '../components/ui';

export function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <div className="content">
        <div className="card"><Empty icon="alert" title="There is no page at this address.">Go to the <Link to="/">overview</Link>.</Empty></div>
      </div>
    </>
  );
}
