-- Orders paid on the shop's own page (Payment Intents + the Payment Element) next to Checkout.
-- The client secret lets the order's owner confirm the payment from their browser; the last
-- payment error is shown while the order stays payable.
ALTER TABLE orders ADD COLUMN kind TEXT NOT NULL DEFAULT 'checkout' CHECK (kind IN ('checkout', 'payment_intent'));
ALTER TABLE orders ADD COLUMN payment_client_secret TEXT;
ALTER TABLE orders ADD COLUMN payment_error TEXT;
