import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../../../app/ports.js';
import v1CustomersCreate from './v1_customers_create.js';
import v1CustomersList from './v1_customers_list.js';
import v1CustomersRetrieve from './v1_customers_retrieve.js';
import v1EventsCreate from './v1_events_create.js';
import v1EventsList from './v1_events_list.js';

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export type RegisterRoute = (app: Api, deps: Deps) => void;

/** Every endpoint, one file each, named after its route. */
export const routes: RegisterRoute[] = [
  v1CustomersCreate,
  v1CustomersList,
  v1CustomersRetrieve,
  v1EventsCreate,
  v1EventsList,
];
