import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Integrations(_props: PageProps) {
  return <PageHeader title="Integrations" />;
}
