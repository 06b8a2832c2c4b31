import { z } from 'zod';
import { overviewStats } from '../../../app/stats.js';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, STAT_INTERVALS } from '../../../core/stats/range.js';
import { timestamp } from '../schemas.js';
import type { RegisterRoute } from './index.js';
import { programRef, referralErrors } from './referral_schema.js';

const assetTotals = z.object({
  asset: z.string(),
  granted: z.number().describe('Granted in the range, in the minor unit of the asset'),
  reversed: z
    .number()
    .describe('Taken back since (refunds, disputes, repairs) of what was granted in the range'),
  net: z.number(),
});

const overview = z
  .object({
    object: z.literal('stats_overview'),
    interval: z.enum(STAT_INTERVALS),
    from: z.string().describe('The start of the first bucket'),
    to: z.string().describe('The end of the range, exclusive'),
    program: z.string().nullable(),
    totals: z.object({
      referrals: z.number().describe('Referrals attributed in the range and not rejected'),
      conversions: z.number().describe('Referrals that qualified in the range'),
      rejections: z.number().describe('Referrals rejected in the range'),
      rewards: z.array(assetTotals).describe('Reward cost per asset: rewards earned in the range'),
    }),
    series: z.array(
      z.object({
        start: z.string().describe('The start of the bucket (UTC)'),
        referrals: z.number(),
        conversions: z.number(),
        rejections: z.number(),
        rewards: z.array(assetTotals),
      }),
    ),
    assets: z
      .array(
        z.object({
          asset: z.string(),
          kind: z.string(),
          currency: z.string().nullable(),
          unit: z.string().nullable(),
        }),
      )
      .describe('The assets named in the figures, to format their amounts'),
    top_referrers: z.array(
      z.object({
        customer: z.string(),
        external_id: z.string().nullable(),
        referrals: z.number().describe('Referrals attributed to it in the range, not rejected'),
        converted: z.number().describe('Of those, qualified or rewarded'),
        rewards_earned: z.array(assetTotals).describe('Everything it earned as a referrer, all time'),
      }),
    ),
    rejection_reasons: z.array(z.object({ reason: z.string(), count: z.number() })),
    recent_rejections: z.array(
      z.object({
        referral: z.string(),
        program: z.string(),
        referrer: z.string(),
        referrer_external_id: z.string().nullable(),
        referee: z.string(),
        referee_external_id: z.string().nullable(),
        reason: z.string(),
        reason_message: z.string().nullable(),
        rejected_at: z.string(),
      }),
    ),
  })
  .meta({ id: 'StatsOverview' });

const limits = STAT_INTERVALS.map((i) => `${i}: ${MAX_RANGE_DAYS[i]} days`).join(', ');
const defaults = STAT_INTERVALS.map((i) => `${i}: ${DEFAULT_RANGE_DAYS[i]} days`).join(', ');

const register: RegisterRoute = (app, deps) => {
  app.get(
    '/v1/stats/overview',
    {
      schema: {
        summary: 'Referrals, conversions, rejections and reward cost per asset over time, with top referrers',
        description:
          `Buckets are UTC days, ISO weeks (from Monday) or calendar months over [from, to). The range is ` +
          `bounded per interval (${limits}); from defaults to a span before to (${defaults}), to to now.`,
        tags: ['referrals'],
        querystring: z.strictObject({
          from: timestamp
            .optional()
            .describe('The start of the range (moved back to the start of its bucket)'),
          to: timestamp.optional().describe('The end of the range, exclusive (default now)'),
          interval: z.enum(STAT_INTERVALS).default('day'),
          program: programRef.optional(),
        }),
        response: { 200: overview, ...referralErrors },
      },
    },
    async (req) => overviewStats(deps, req.workspaceId, req.query),
  );
};
export default register;
