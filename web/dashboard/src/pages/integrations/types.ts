// The API objects the Integrations page shows, as the API answers them (see /v1/openapi.json).

export interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  disabled_at: string | null;
  last_success_at: string | null;
  failing_since: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
}

export interface EndpointWithSecret extends Endpoint {
  secret: string;
}

export interface Delivery {
  id: string;
  event_id: string | null;
  event_type: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  attempts: number;
  max_attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  replay_of: string | null;
  created_at: string;
  completed_at: string | null;
  payload: unknown;
  attempt_log: {
    attempt: number;
    started_at: string;
    duration_ms: number;
    status_code: number | null;
    error: string | null;
    response_body: string | null;
  }[];
}

export interface StripeSettings {
  webhook_path: string;
  webhook_secrets: { last4: string }[];
  api_key: { last4: string; livemode: boolean } | null;
  plan_units_key: string;
  updated_at: string | null;
}

export interface StripeEvent {
  id: string;
  stripe_event_id: string;
  type: string;
  status: 'received' | 'processed' | 'failed' | 'ignored' | 'deferred';
  reason: string | null;
  attempts: number;
  received_at: string;
  processed_at: string | null;
}

export interface StripeCall {
  id: string;
  operation: string;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  last_attempt_at: string | null;
  created_at: string;
}
