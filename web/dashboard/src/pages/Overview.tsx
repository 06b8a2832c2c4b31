import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Overview(_props: PageProps) {
  return <PageHeader title="Overview" />;
}
