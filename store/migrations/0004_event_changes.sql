-- Each stored event keeps the change it meant for the shop, as the payments package read it,
-- so that an event kept aside (its order not known yet) can be applied later without reading
-- the provider's payload again.
ALTER TABLE stripe_events ADD COLUMN effect TEXT NOT NULL DEFAULT '';
ALTER TABLE stripe_events ADD COLUMN change TEXT NOT NULL DEFAULT '{}';

-- Refunds kept aside by earlier versions are the only stored events that can still apply.
UPDATE stripe_events SET effect = 'refund',
    change = json_object('order', json_object('paymentIntent', payment_intent), 'effect', 'refund',
                         'refund', json_object('full', json(CASE WHEN refunded THEN 'true' ELSE 'false' END)))
WHERE outcome = 'unmatched' AND payment_intent IS NOT NULL AND type = 'charge.refunded';
