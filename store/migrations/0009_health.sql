-- One row the health check rewrites, to learn whether the database still takes writes (a full
-- disk or a read-only file answers reads but not commits).
CREATE TABLE health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT NOT NULL
);
INSERT INTO health (id, checked_at) VALUES (1, '');
