-- How many Checkout Sessions an order has had: resuming the payment of an order whose session
-- closed starts another, which needs an idempotency key of its own.
ALTER TABLE orders ADD COLUMN checkout_attempt INTEGER NOT NULL DEFAULT 1;
