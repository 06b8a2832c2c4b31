import { PageHeader } from '../components/ui';
import type { PageProps } from './props';

export function Referrals(_props: PageProps) {
  return <PageHeader title="Referrals" />;
}
