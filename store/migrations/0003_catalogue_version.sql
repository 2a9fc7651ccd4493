-- A counter that moves with every change to the catalogue, so the shop can keep the product
-- list in memory and still see changes made by anyone (another process, the sqlite3 shell).
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 1);
CREATE TRIGGER products_inserted AFTER INSERT ON products
BEGIN UPDATE catalogue_version SET version = version + 1; END;
CREATE TRIGGER products_updated AFTER UPDATE ON products
BEGIN UPDATE catalogue_version SET version = version + 1; END;
CREATE TRIGGER products_deleted AFTER DELETE ON products
BEGIN UPDATE catalogue_version SET version = version + 1; END;
