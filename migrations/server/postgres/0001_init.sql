-- Server schema v1 (PostgreSQL and Postgres-wire engines: CockroachDB, YugabyteDB). The
-- twin of migrations/server/sqlite/0001_init.sql: same tables, columns and meanings.
-- Never edit once released: add 0002_*.sql instead.
-- Only BIGINT/TEXT/BOOLEAN; no sequences (gseq comes from the counters row), no triggers.
-- Times are RFC 3339 UTC text with 6 fractional digits (text order = time order, as on
-- SQLite); JSON documents are text, stored and hashed byte for byte as serialised.

CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE tills (
    id         TEXT PRIMARY KEY,
    store_id   TEXT NOT NULL REFERENCES stores (id),
    token_hash TEXT NOT NULL UNIQUE,          -- hex SHA-256 of the device token
    revoked    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- The global server sequence: one row, bumped inside the applying transaction
-- (serialises appliers, so gseq order = commit order).
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('gseq', 0);

-- Every applied fact, exactly once.
CREATE TABLE events (
    till_id     TEXT NOT NULL REFERENCES tills (id),
    seq         BIGINT NOT NULL,
    op_id       TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL,                -- hex SHA-256 of recorded_at + fact JSON
    gseq        BIGINT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    fact        TEXT NOT NULL,
    PRIMARY KEY (till_id, seq)
);

-- Facts settled without being applied (conflicting op id, unknown account...): they take
-- their seq so the till can go on, and a re-upload gets the same conflict back.
CREATE TABLE rejected_events (
    till_id     TEXT NOT NULL REFERENCES tills (id),
    seq         BIGINT NOT NULL,
    op_id       TEXT NOT NULL,
    hash        TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    fact        TEXT NOT NULL,
    PRIMARY KEY (till_id, seq)
);

CREATE TABLE till_cursors (
    till_id  TEXT PRIMARY KEY REFERENCES tills (id),
    last_seq BIGINT NOT NULL
);

CREATE TABLE accounts (
    uid        TEXT PRIMARY KEY,
    gseq       BIGINT NOT NULL,               -- gseq of the last fact that changed it
    book       TEXT NOT NULL,                 -- loyalty_domain::AccountBook as JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accounts_gseq ON accounts (gseq);

CREATE TABLE customers (
    uid          TEXT PRIMARY KEY,
    account_uid  TEXT NOT NULL UNIQUE REFERENCES accounts (uid),
    profile      TEXT NOT NULL,               -- loyalty_domain::Profile as JSON
    referrer_uid TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE cards (
    number      TEXT PRIMARY KEY,
    account_uid TEXT NOT NULL REFERENCES accounts (uid),
    status      TEXT NOT NULL,                -- 'active' | 'blocked'
    kind        TEXT NOT NULL,                -- 'primary' | 'family'
    created_at  TEXT NOT NULL
);
CREATE INDEX cards_account ON cards (account_uid);

CREATE TABLE reservations (
    id          TEXT PRIMARY KEY,
    op_id       TEXT NOT NULL UNIQUE,
    till_id     TEXT NOT NULL REFERENCES tills (id),
    account_uid TEXT NOT NULL REFERENCES accounts (uid),
    card        TEXT NOT NULL,
    points      BIGINT NOT NULL,
    status      TEXT NOT NULL,                -- 'active' | 'void' | 'consumed'
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    closed_at   TEXT,
    consumed_by TEXT                           -- op id of the sale that consumed it
);
CREATE INDEX reservations_account ON reservations (account_uid, status);

-- Points an account could not cover, for the owner's attention.
CREATE TABLE shortfalls (
    op_id       TEXT NOT NULL,
    account_uid TEXT NOT NULL REFERENCES accounts (uid),
    till_id     TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    points      BIGINT NOT NULL,
    gseq        BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (op_id, account_uid)
);

CREATE TABLE program_versions (
    version        BIGINT PRIMARY KEY,
    effective_from TEXT NOT NULL,
    config         TEXT NOT NULL,             -- loyalty_domain::ProgramConfig as JSON
    gseq           BIGINT NOT NULL,
    created_at     TEXT NOT NULL
);
