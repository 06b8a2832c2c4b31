import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Promotions(_props: PageProps) {
  return <PageHeader title="Promotions" />;
}
