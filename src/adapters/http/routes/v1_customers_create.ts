import { customerView, upsertCustomer } from '../../../app/customers.js';
import { execute } from '../idempotency.js';
import { commonErrors } from '../schemas.js';
import { customer, customerInput } from './customer_schema.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app, deps) => {
  app.post(
    '/v1/customers',
    {
      schema: {
        summary: 'Create or update a customer by external_id',
        tags: ['customers'],
        body: customerInput,
        response: { 200: customer, 201: customer, ...commonErrors },
      },
    },
    (req, reply) =>
      execute(deps, req, reply, async (tx) => {
        const { row, created } = await upsertCustomer(deps, tx, req.workspaceId, req.body, deps.clock.now());
        return { status: created ? 201 : 200, body: await customerView(tx, row) };
      }),
  );
};
export default register;
