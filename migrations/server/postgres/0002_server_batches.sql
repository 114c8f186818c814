-- Server-origin facts (imports): applied like a till's, under a till of their own.
-- The twin of migrations/server/sqlite/0002_server_batches.sql. Never edit once released.
--
-- The 'server' till records every fact the server itself originates (`loyalty-server
-- import`): its events get a seq and a gseq like any till's and reach every till through
-- changes/snapshot. It is revoked and its token hash is not a SHA-256, so no device can
-- ever authenticate as it.
INSERT INTO stores (id, name, created_at)
VALUES ('server', '(server)', '2025-01-01T00:00:00.000000Z');
INSERT INTO tills (id, store_id, token_hash, revoked, created_at, revoked_at)
VALUES ('server', 'server', 'none: server-origin facts have no device token', TRUE,
        '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z');
INSERT INTO till_cursors (till_id, last_seq) VALUES ('server', 0);

-- One row per applied server batch (an import), keyed by its id (the file's SHA-256):
-- the same batch again is a no-op that reports this row.
CREATE TABLE server_batches (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,                 -- 'import'
    label      TEXT NOT NULL,                 -- e.g. the file name
    events     BIGINT NOT NULL,
    first_seq  BIGINT NOT NULL,               -- seq range of the 'server' till
    last_seq   BIGINT NOT NULL,
    first_gseq BIGINT NOT NULL,
    last_gseq  BIGINT NOT NULL,
    applied_at TEXT NOT NULL
);
