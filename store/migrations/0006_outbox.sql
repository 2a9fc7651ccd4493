-- Mail waiting to be sent, written in the same transaction as what caused it (see store/outbox.go).
-- dedupe_key makes a message for one cause unique: a replayed event cannot queue a second receipt.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    recipient       TEXT NOT NULL,
    order_id        INTEGER REFERENCES orders(id),
    data            TEXT NOT NULL DEFAULT '{}', -- what the message shows, as JSON (see MailData)
    secret          TEXT,                       -- a one-time token the message carries; cleared once sent or given up
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    give_up_at      TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_status ON outbox(status, id);

-- Password reset tokens, stored as their SHA-256 only. Each is single use and short-lived.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);
CREATE INDEX password_resets_by_user ON password_resets(user_id);
