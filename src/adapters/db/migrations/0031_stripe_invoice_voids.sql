-- A Stripe invoice voided or deleted before Perks settled its draft: Stripe does not promise the
-- order of its events, and invoice.created may also be retried long after the draft is gone. The
-- invoice.created handler looks for such an event before settling, so that a discount or credit is
-- never applied to an invoice nobody will pay; this finds them by the invoice's id.
create index stripe_events_invoice_voids on stripe_events (workspace_id, (payload #>> '{data,object,id}'))
  where type in ('invoice.voided', 'invoice.deleted');
