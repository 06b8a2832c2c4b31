import { PageHeader } from '../components/ui';
import { EndpointDetail } from './integrations/EndpointDetail';
import { FailedEvents, StripeStatus } from './integrations/Stripe';
import { WebhookEndpoints } from './integrations/WebhookEndpoints';
import type { PageProps } from './props';

/**
 * Integrations: webhook endpoints, Stripe and recent failures (`/integrations`); one endpoint and its
 * deliveries (`/integrations/webhooks/{id}`).
 */
export function Integrations({ path }: PageProps) {
  const parts = path.split('/');
  if (parts[2] === 'webhooks' && parts[3]) return <EndpointDetail id={decodeURIComponent(parts[3])} />;
  return (
    <>
      <PageHeader title="Integrations" />
      <WebhookEndpoints />
      <StripeStatus />
      <FailedEvents />
    </>
  );
}
