import { Counter, Histogram, register as processRegistry, Registry } from 'prom-client';

/** Prometheus metrics: request counts and latency by route template and status. */
export function createMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'perks_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'perks_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return {
    contentType: registry.contentType,
    observe(method: string, route: string, status: number, elapsedMs: number) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, elapsedMs / 1000);
    },
    // Adapters that count things of their own (e.g. Stripe webhook outcomes) use the process-wide registry.
    render: () => Registry.merge([registry, processRegistry]).metrics(),
  };
}
