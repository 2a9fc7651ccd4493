-- Counters that instances sharing the database keep together: rate limits (login, sign-up,
-- mail requests, carts, checkouts) and each account's open event streams. Times are sortable
-- UTC text, as everywhere else.
CREATE TABLE rate_limits (
    key     TEXT PRIMARY KEY,
    started TEXT NOT NULL,   -- when the current window began
    ends    TEXT NOT NULL,   -- when it ends; a later event starts a new one
    hits    INTEGER NOT NULL
);
CREATE INDEX rate_limits_ends ON rate_limits (ends);

-- The instances running now: each says it is alive every few seconds; one silent for long
-- has stopped, and its open streams no longer count.
CREATE TABLE instances (
    id      TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);

CREATE TABLE open_streams (
    instance TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    streams  INTEGER NOT NULL,
    PRIMARY KEY (user_id, instance)
);
