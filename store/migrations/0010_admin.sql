-- The operator console: admins, stock held with checkouts, uploaded images, refunds asked of
-- the payment provider, and an audit log of what admins did.
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;

-- stock is NULL for unlimited. held counts what open checkouts hold, sold what paid orders took;
-- what is free is stock - held - sold. version moves with every edit an admin saves, so that two
-- admins editing the same product cannot silently overwrite each other.
ALTER TABLE products ADD COLUMN stock INTEGER CHECK (stock IS NULL OR stock >= 0);
ALTER TABLE products ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN sold INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- The catalogue's version moves when what shoppers see changes: any edit, and the counters of a
-- product whose stock is limited (its "Only N left" changes). Counters of unlimited products
-- move on every checkout and must not throw the cached catalogue away.
DROP TRIGGER products_updated;
CREATE TRIGGER products_updated AFTER UPDATE OF slug, name, description, price, currency, image, active, stock ON products
BEGIN UPDATE catalogue_version SET version = version + 1; END;
CREATE TRIGGER products_stock_moved AFTER UPDATE OF held, sold ON products WHEN NEW.stock IS NOT NULL
BEGIN UPDATE catalogue_version SET version = version + 1; END;

-- What an order does to stock: 'none' (made before stock existed), 'held' (its checkout holds
-- the quantities), 'sold' (paid), 'released' (expired, cancelled or failed: the hold is gone).
ALTER TABLE orders ADD COLUMN stock_state TEXT NOT NULL DEFAULT 'none'
    CHECK (stock_state IN ('none', 'held', 'sold', 'released'));
-- Why an order needs review (amount mismatch, oversold, disputed, ...), for the review queue.
ALTER TABLE orders ADD COLUMN review_reason TEXT NOT NULL DEFAULT '';
-- A dispute reported before the payment's confirmation waits here, like a refund does.
ALTER TABLE orders ADD COLUMN disputed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX orders_by_status ON orders(status, id);
CREATE INDEX stripe_events_by_order ON stripe_events(order_id) WHERE order_id IS NOT NULL;
CREATE INDEX stripe_events_by_received ON stripe_events(received_at);

-- Uploaded product images, kept in the database so that a backup of it is a backup of the shop.
-- products.image names one as 'upload:<sha256>'.
CREATE TABLE product_images (
    sha256       TEXT PRIMARY KEY,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    data         BLOB NOT NULL,
    created_at   TEXT NOT NULL
);

-- Refunds an admin asked the payment provider for. The order itself changes only when the
-- provider's charge.refunded event arrives; until then the order shows "refund requested".
CREATE TABLE refund_requests (
    id              INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL REFERENCES orders(id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    status          TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error           TEXT NOT NULL DEFAULT '',
    requested_by    INTEGER REFERENCES users(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX refund_requests_by_order ON refund_requests(order_id);

-- Every admin action: who, what, on what, when.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    admin_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    admin_email TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
