-- Accounts. session_version invalidates every cookie of a user at logout.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    session_version INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

-- The catalogue. Prices are integer minor units of currency.
CREATE TABLE products (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    price       INTEGER NOT NULL CHECK (price > 0),
    currency    TEXT NOT NULL DEFAULT 'usd',
    image       TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

-- A cart belongs to a user, or to an anonymous visitor through a random token in their cookie.
CREATE TABLE carts (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    token      TEXT UNIQUE,
    created_at TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (token IS NULL))
);

CREATE TABLE cart_items (
    cart_id    INTEGER NOT NULL REFERENCES carts(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   TEXT NOT NULL,
    PRIMARY KEY (cart_id, product_id)
) WITHOUT ROWID;

-- Orders. Status only moves forward; see store/orders.go for the allowed steps.
CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER REFERENCES users(id),
    cart_id             INTEGER REFERENCES carts(id) ON DELETE SET NULL,
    cart_fingerprint    TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN
                            ('pending','processing','paid','failed','expired','refunded','needs_review')),
    amount_total        INTEGER NOT NULL CHECK (amount_total > 0),
    currency            TEXT NOT NULL,
    checkout_session_id TEXT UNIQUE,
    checkout_url        TEXT,
    session_expires_at  TEXT,
    payment_intent      TEXT,
    customer_email      TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    paid_at             TEXT
);
CREATE INDEX orders_by_user ON orders(user_id, id);
CREATE INDEX orders_by_cart ON orders(cart_id, status);
CREATE INDEX orders_by_payment_intent ON orders(payment_intent) WHERE payment_intent IS NOT NULL;

-- What was bought, as it was priced when the order was made.
CREATE TABLE order_items (
    order_id    INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products(id),
    name        TEXT NOT NULL,
    unit_amount INTEGER NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

-- Every Stripe event ever accepted, once: the id is what makes delivery exactly-once.
CREATE TABLE stripe_events (
    id             TEXT PRIMARY KEY,
    type           TEXT NOT NULL,
    api_version    TEXT NOT NULL,
    created        INTEGER NOT NULL,
    object_id      TEXT NOT NULL,
    payment_intent TEXT,
    refunded       INTEGER NOT NULL DEFAULT 0, -- charge.refunded: the charge is refunded in full
    payload        TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    processed_at   TEXT,
    outcome        TEXT NOT NULL DEFAULT '',
    order_id       INTEGER REFERENCES orders(id)
);
CREATE INDEX stripe_events_unmatched ON stripe_events(payment_intent) WHERE outcome = 'unmatched';
