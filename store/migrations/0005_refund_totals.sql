-- An order remembers what has been refunded of its payment, whatever order the events came in:
-- a refund that arrives before the payment's confirmation is applied when the payment lands.
ALTER TABLE orders ADD COLUMN amount_refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN refunded_in_full INTEGER NOT NULL DEFAULT 0;
UPDATE orders SET refunded_in_full = 1, amount_refunded = amount_total WHERE status = 'refunded';
