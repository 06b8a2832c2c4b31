import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Programs(_props: PageProps) {
  return <PageHeader title="Programs" />;
}
