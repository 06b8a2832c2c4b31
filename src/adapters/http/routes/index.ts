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
import v1AssetsCreate from './v1_assets_create.js';
import v1AssetsList from './v1_assets_list.js';
import v1CustomersBalances from './v1_customers_balances.js';
import v1CustomersConsumptionsCreate from './v1_customers_consumptions_create.js';
import v1CustomersGrantsCreate from './v1_customers_grants_create.js';
import v1CustomersLedger from './v1_customers_ledger.js';
import v1CustomersGrantsList from './v1_customers_grants_list.js';
import v1CustomersReversalsCreate from './v1_customers_reversals_create.js';
import v1InvoicesSettle from './v1_invoices_settle.js';
import v1InvoicesVoid from './v1_invoices_void.js';
import v1PayoutsApprove from './v1_payouts_approve.js';
import v1PayoutsCancel from './v1_payouts_cancel.js';
import v1PayoutsCreate from './v1_payouts_create.js';
import v1PayoutsList from './v1_payouts_list.js';
import v1PayoutsReject from './v1_payouts_reject.js';
import v1PayoutsRetrieve from './v1_payouts_retrieve.js';
import v1PromotionsCreate from './v1_promotions_create.js';
import v1PromotionsList from './v1_promotions_list.js';
import v1PromotionsRetrieve from './v1_promotions_retrieve.js';
import v1PromotionsCodesGenerate from './v1_promotions_codes_generate.js';
import v1PromotionsCodeBatchesList from './v1_promotions_code_batches_list.js';
import v1PromotionsCodeBatchesRetrieve from './v1_promotions_code_batches_retrieve.js';
import v1PromotionCodesCreate from './v1_promotion_codes_create.js';
import v1PromotionCodesList from './v1_promotion_codes_list.js';
import v1PromotionCodesRetrieve from './v1_promotion_codes_retrieve.js';
import v1PromotionCodesValidate from './v1_promotion_codes_validate.js';
import v1PromotionCodesRedeem from './v1_promotion_codes_redeem.js';
import v1RedemptionsList from './v1_redemptions_list.js';
import v1RedemptionsRetrieve from './v1_redemptions_retrieve.js';
import v1RedemptionsVoid from './v1_redemptions_void.js';
import rCode from './r_code.js';
import v1CustomersContract from './v1_customers_contract.js';
import v1CustomersReferralCodeCreate from './v1_customers_referral_code_create.js';
import v1CustomersReferralOption from './v1_customers_referral_option.js';
import v1CustomersReferralReinstate from './v1_customers_referral_reinstate.js';
import v1CustomersReferralSummary from './v1_customers_referral_summary.js';
import v1CustomersReferralTree from './v1_customers_referral_tree.js';
import v1CustomersReferralsList from './v1_customers_referrals_list.js';
import v1ProgramsCreate from './v1_programs_create.js';
import v1ProgramsFromTemplate from './v1_programs_from_template.js';
import v1ProgramsList from './v1_programs_list.js';
import v1ProgramsRetrieve from './v1_programs_retrieve.js';
import v1ProgramsSchema from './v1_programs_schema.js';
import v1ProgramsTemplatesList from './v1_programs_templates_list.js';
import v1ProgramsVersionsList from './v1_programs_versions_list.js';
import v1ReferralsCreate from './v1_referrals_create.js';
import v1ReferralsReassign from './v1_referrals_reassign.js';
import v1ReferralsRetrieve from './v1_referrals_retrieve.js';
import v1ReferralsList from './v1_referrals_list.js';
import v1AuditLogList from './v1_audit_log_list.js';
import v1StatsOverview from './v1_stats_overview.js';
import v1StripeWebhook from './v1_stripe_webhook.js';
import v1StripeSettingsRetrieve from './v1_stripe_settings_retrieve.js';
import v1StripeSettingsUpdate from './v1_stripe_settings_update.js';
import v1StripeEventsList from './v1_stripe_events_list.js';
import v1StripeEventsRetrieve from './v1_stripe_events_retrieve.js';
import v1StripeEventsRetry from './v1_stripe_events_retry.js';
import v1StripeCallsList from './v1_stripe_calls_list.js';
import v1StripeCallsRetry from './v1_stripe_calls_retry.js';
import v1WebhookEndpointsCreate from './v1_webhook_endpoints_create.js';
import v1WebhookEndpointsList from './v1_webhook_endpoints_list.js';
import v1WebhookEndpointsRetrieve from './v1_webhook_endpoints_retrieve.js';
import v1WebhookEndpointsUpdate from './v1_webhook_endpoints_update.js';
import v1WebhookEndpointsDelete from './v1_webhook_endpoints_delete.js';
import v1WebhookEndpointsRotateSecret from './v1_webhook_endpoints_rotate_secret.js';
import v1WebhookEndpointsEnable from './v1_webhook_endpoints_enable.js';
import v1WebhookEndpointsDeliveries from './v1_webhook_endpoints_deliveries.js';
import v1WebhookEndpointsReplay from './v1_webhook_endpoints_replay.js';
import v1CustomerTokensCreate from './v1_customer_tokens_create.js';
import v1WidgetReferral from './v1_widget_referral.js';
import v1WidgetPayoutsCreate from './v1_widget_payouts_create.js';
import v1WebhookEndpointsDisable from './v1_webhook_endpoints_disable.js';

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
  v1AssetsCreate,
  v1AssetsList,
  v1CustomersBalances,
  v1CustomersConsumptionsCreate,
  v1CustomersGrantsCreate,
  v1CustomersLedger,
  v1CustomersGrantsList,
  v1CustomersReversalsCreate,
  v1InvoicesSettle,
  v1InvoicesVoid,
  v1PayoutsApprove,
  v1PayoutsCancel,
  v1PayoutsCreate,
  v1PayoutsList,
  v1PayoutsReject,
  v1PayoutsRetrieve,
  v1PromotionsCreate,
  v1PromotionsList,
  v1PromotionsRetrieve,
  v1PromotionsCodesGenerate,
  v1PromotionsCodeBatchesList,
  v1PromotionsCodeBatchesRetrieve,
  v1PromotionCodesCreate,
  v1PromotionCodesList,
  v1PromotionCodesRetrieve,
  v1PromotionCodesValidate,
  v1PromotionCodesRedeem,
  v1RedemptionsList,
  v1RedemptionsRetrieve,
  v1RedemptionsVoid,
  rCode,
  v1CustomersContract,
  v1CustomersReferralCodeCreate,
  v1CustomersReferralOption,
  v1CustomersReferralReinstate,
  v1CustomersReferralSummary,
  v1CustomersReferralTree,
  v1CustomersReferralsList,
  v1ProgramsCreate,
  v1ProgramsFromTemplate,
  v1ProgramsList,
  v1ProgramsRetrieve,
  v1ProgramsSchema,
  v1ProgramsTemplatesList,
  v1ProgramsVersionsList,
  v1ReferralsCreate,
  v1ReferralsReassign,
  v1ReferralsRetrieve,
  v1ReferralsList,
  v1AuditLogList,
  v1StatsOverview,
  v1StripeWebhook,
  v1StripeSettingsRetrieve,
  v1StripeSettingsUpdate,
  v1StripeEventsList,
  v1StripeEventsRetrieve,
  v1StripeEventsRetry,
  v1StripeCallsList,
  v1StripeCallsRetry,
  v1WebhookEndpointsCreate,
  v1WebhookEndpointsList,
  v1WebhookEndpointsRetrieve,
  v1WebhookEndpointsUpdate,
  v1WebhookEndpointsDelete,
  v1WebhookEndpointsRotateSecret,
  v1WebhookEndpointsEnable,
  v1WebhookEndpointsDeliveries,
  v1WebhookEndpointsReplay,
  v1WebhookEndpointsDisable,
  v1CustomerTokensCreate,
  v1WidgetReferral,
  v1WidgetPayoutsCreate,
];
