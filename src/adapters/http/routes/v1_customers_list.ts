import { z } from 'zod';
import { listCustomers } from '../../../app/customers.js';
import { MAX_SEARCH_LENGTH, searchCustomers } from '../../../app/customers_search.js';
import { commonErrors, isStorableText, listOf, pageQuery } from '../schemas.js';
import { customer } from './customer_schema.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/customers',
    {
      schema: {
        summary: 'List customers, newest first; search by the start of an external id or e-mail',
        tags: ['customers'],
        querystring: z.strictObject({
          ...pageQuery,
          email: z.string().max(320).optional(),
          search: z
            .string()
            .trim()
            .min(1, 'must not be empty')
            .max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`)
            .refine(isStorableText, 'must not contain NUL characters or unpaired UTF-16 surrogates')
            .optional()
            .describe(
              'Customers whose external id starts with this text, whose e-mail starts with it (ignoring case), or whose Perks id is exactly it',
            ),
        }),
        response: { 200: listOf(customer), ...commonErrors },
      },
    },
    async (req) =>
      req.query.search === undefined
        ? listCustomers(deps.db, req.workspaceId, req.query, req.query.email)
        : searchCustomers(deps.db, req.workspaceId, req.query, req.query.search, req.query.email),
  );
};
export default register;
