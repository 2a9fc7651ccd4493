-- Named locks with an expiry, so that one job (reconcile) runs at a time across processes; a
-- holder that dies without unlocking loses the lock when it expires.
CREATE TABLE locks (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
);
