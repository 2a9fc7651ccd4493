-- Memberships: plans a user can subscribe to, the one payment-provider customer each user has,
-- their subscriptions and invoices. State comes only from the provider's events (see
-- store/memberships.go for how an older event is kept from overwriting a newer state).

-- A plan is one price of the membership. Members get discount_percent off every order.
CREATE TABLE plans (
    code             TEXT PRIMARY KEY CHECK (code IN ('monthly', 'yearly')),
    name             TEXT NOT NULL,
    billing_interval TEXT NOT NULL UNIQUE CHECK (billing_interval IN ('month', 'year')),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    currency         TEXT NOT NULL DEFAULT 'usd',
    discount_percent INTEGER NOT NULL CHECK (discount_percent BETWEEN 0 AND 90)
);
INSERT INTO plans (code, name, billing_interval, amount, currency, discount_percent) VALUES
    ('monthly', 'Membership, monthly', 'month', 500, 'usd', 10),
    ('yearly', 'Membership, yearly', 'year', 5000, 'usd', 10);

-- Exactly one provider customer per user. The row is reserved (customer_id NULL) before the
-- provider is asked to create one, under an idempotency key made from the row, so that two
-- concurrent first subscribes create one customer between them.
CREATE TABLE customers (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    customer_id TEXT UNIQUE,
    reserved_at TEXT NOT NULL
);

-- The user's subscription checkout in progress: one at a time, so that a double click or two
-- tabs reuse one Checkout Session (and can make one subscription), not two.
CREATE TABLE membership_checkouts (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    plan        TEXT NOT NULL REFERENCES plans(code),
    attempt     INTEGER NOT NULL DEFAULT 1,
    session_id  TEXT UNIQUE,
    url         TEXT,
    expires_at  TEXT,
    created_at  TEXT NOT NULL
);

-- A subscription as the newest event about it described it. Snapshots are ordered by period
-- end, then version_created (the event's created time), then status (see
-- store/membership_apply.go); an older one changes nothing, and canceled is final.
CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    user_id              INTEGER REFERENCES users(id) ON DELETE SET NULL,
    customer_id          TEXT NOT NULL,
    plan                 TEXT NOT NULL REFERENCES plans(code),
    status               TEXT NOT NULL CHECK (status IN ('incomplete', 'active', 'past_due', 'canceled', 'unpaid')),
    current_period_end   INTEGER NOT NULL DEFAULT 0, -- Unix seconds
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    -- the checkout that started it was paid: its first invoice is, so it is not incomplete
    checkout_paid        INTEGER NOT NULL DEFAULT 0,
    version_created      INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);
CREATE INDEX subscriptions_by_user ON subscriptions(user_id, updated_at);

-- Invoices of subscriptions, as their events reported them (paid or failed, newest attempt wins).
CREATE TABLE invoices (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    status          TEXT NOT NULL CHECK (status IN ('paid', 'failed')),
    amount          INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    period_end      INTEGER NOT NULL, -- the end of the service period the invoice pays for
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    event_created   INTEGER NOT NULL,
    hosted_url      TEXT NOT NULL DEFAULT '',
    created         INTEGER NOT NULL
);
CREATE INDEX invoices_by_subscription ON invoices(subscription_id, period_end);
CREATE INDEX invoices_by_user ON invoices(user_id, created);
