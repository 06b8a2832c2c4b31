import { z } from 'zod';
import { customerView, requireCustomer } from '../../../app/customers.js';
import { commonErrors, identifier } from '../schemas.js';
import { customer } from './customer_schema.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers/:id',
    {
      schema: {
        summary: 'Retrieve a customer by Perks id or external_id',
        tags: ['customers'],
        params: z.strictObject({ id: identifier }),
        response: { 200: customer, ...commonErrors },
      },
    },
    async (req) =>
      customerView(deps.db, await requireCustomer(deps.db, req.workspaceId, req.params.id, 'id')),
  );
};
export default register;
