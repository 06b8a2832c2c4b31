import { z } from 'zod';
import { AUDIT_ACTIONS, listAuditLog } from '../../../app/audit_log.js';
import { identifier, listOf, pageQuery } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors } from './referral_schema.js';

const entry = z
  .object({
    id: z.string(),
    object: z.literal('audit_log_entry'),
    action: z.string(),
    program: z.string().nullable(),
    referral: z.string().nullable(),
    customer: z.string().nullable().describe('The customer the change is about (the referee of a referral)'),
    customer_external_id: z.string().nullable(),
    actor: z.string().nullable(),
    reason: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    customers: z
      .record(z.string(), z.string())
      .describe('The external id of each customer the entry names (its customer, and any in details)'),
    at: z.string(),
  })
  .meta({ id: 'AuditLogEntry' });

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/audit_log',
    {
      schema: {
        summary: 'The audit log of referral repairs and changes, newest first',
        tags: ['referrals'],
        querystring: z.strictObject({
          ...pageQuery,
          referral: identifier.optional(),
          customer: identifier.optional().describe('A customer: Perks id or external_id'),
          program: programRef.optional(),
          action: z.enum(AUDIT_ACTIONS).optional(),
        }),
        response: { 200: listOf(entry), ...referralErrors },
      },
    },
    async (req) => listAuditLog(deps.db, req.workspaceId, req.query),
  );
};
export default register;
