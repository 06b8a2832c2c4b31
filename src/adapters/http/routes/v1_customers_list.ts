import { z } from 'zod';
import { listCustomers } from '../../../app/customers.js';
import { commonErrors, listOf, pageQuery } from '../schemas.js';
import { customer } from './customer_schema.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers',
    {
      schema: {
        summary: 'List customers, newest first',
        tags: ['customers'],
        querystring: z.strictObject({ ...pageQuery, email: z.string().max(320).optional() }),
        response: { 200: listOf(customer), ...commonErrors },
      },
    },
    async (req) => listCustomers(deps.db, req.workspaceId, req.query, req.query.email),
  );
};
export default register;
