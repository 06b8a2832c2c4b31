import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Customers(_props: PageProps) {
  return <PageHeader title="Customers" />;
}
