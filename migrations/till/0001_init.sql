-- Till store schema, version 1.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere: the store records a SHA-256 of
-- every applied migration in `schema_migrations` and refuses to open a database whose
-- applied migration text changed. Add `0002_*.sql` instead.
--
-- Conventions
--   * money and points are INTEGER (money in minor units), never REAL;
--   * timestamps are INTEGER unix epoch milliseconds (UTC), dates are TEXT 'YYYY-MM-DD';
--   * `op_id` is the UUIDv7 (TEXT, hyphenated) of the operation that wrote the row.
--
-- Tables
--   till_meta        key/value counters of this till (card serial, receipt serial).
--   program_versions program configurations (JSON of loyalty_domain::ProgramConfig); the one in
--                    force at time t is the row with the greatest effective_from <= t.
--   customers        one person; phone is E.164 and UNIQUE; name_norm = lowercase name for
--                    prefix search (range seek on customers_name_norm); tags = JSON array.
--   accounts         the balance holder (1 owner customer, 1..n cards: family cards share it).
--                    shortfall = points owed (after a return of already spent points), settled
--                    from future earnings first. lifetime_* / stamps / club_until /
--                    birthday_bonus_year / referral_pending feed CustomerSnapshot.
--   cards            card number (EAN-13) -> account; status active|blocked; replaced_by.
--   lots             earned points: remaining is what is left of original; available between
--                    available_at and expires_at. available = sum(remaining) of lots with
--                    available_at <= now < coalesce(expires_at, +inf); pending = available_at > now.
--   ledger           APPEND-ONLY (triggers forbid UPDATE/DELETE) signed point movements.
--                    Invariant per account: sum(ledger.points) = sum(lots.remaining) - shortfall.
--   sales, sale_lines     a checkout; returned_* columns accumulate returns.
--   returns, return_lines a (partial) return, linked to the sale.
--   adjustments      owner corrections, with reason and author (audit).
--   operations       idempotency log: op_id -> kind, SHA-256 of the request, JSON result.
--   outbox           one event per operation, seq gap-free (max+1 in the same transaction),
--                    describing the fact (not balances) for the sync engine; acked flag.

CREATE TABLE till_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE program_versions (
    version        INTEGER PRIMARY KEY,
    effective_from INTEGER NOT NULL,
    json           TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX program_versions_effective ON program_versions(effective_from, version);

CREATE TABLE customers (
    id                INTEGER PRIMARY KEY,
    uid               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    name_norm         TEXT NOT NULL,
    phone             TEXT UNIQUE,
    email             TEXT,
    birthday          TEXT,
    gender            TEXT,
    age_group         TEXT,
    home_store        TEXT,
    preferred_channel TEXT NOT NULL DEFAULT 'none'
                      CHECK (preferred_channel IN ('sms', 'email', 'messenger', 'none')),
    marketing_consent INTEGER NOT NULL DEFAULT 0 CHECK (marketing_consent IN (0, 1)),
    consent_at        INTEGER,
    tags              TEXT NOT NULL DEFAULT '[]',
    referrer_id       INTEGER REFERENCES customers(id),
    enrolled_at       INTEGER NOT NULL,
    enrolled_store    TEXT NOT NULL,
    enrolled_till     TEXT NOT NULL,
    op_id             TEXT NOT NULL
);
CREATE INDEX customers_name_norm ON customers(name_norm);
CREATE INDEX customers_referrer ON customers(referrer_id) WHERE referrer_id IS NOT NULL;

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    customer_id         INTEGER NOT NULL UNIQUE REFERENCES customers(id),
    shortfall           INTEGER NOT NULL DEFAULT 0 CHECK (shortfall >= 0),
    lifetime_spend      INTEGER NOT NULL DEFAULT 0,
    lifetime_purchases  INTEGER NOT NULL DEFAULT 0 CHECK (lifetime_purchases >= 0),
    stamps              INTEGER NOT NULL DEFAULT 0 CHECK (stamps >= 0),
    club_until          INTEGER,
    birthday_bonus_year INTEGER,
    referral_pending    INTEGER NOT NULL DEFAULT 0 CHECK (referral_pending IN (0, 1)),
    created_at          INTEGER NOT NULL
);

CREATE TABLE cards (
    number      TEXT PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    kind        TEXT NOT NULL CHECK (kind IN ('primary', 'family')),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    replaced_by TEXT REFERENCES cards(number),
    issued_at   INTEGER NOT NULL,
    blocked_at  INTEGER,
    op_id       TEXT NOT NULL
);
CREATE INDEX cards_account ON cards(account_id);

CREATE TABLE sales (
    id               INTEGER PRIMARY KEY,
    receipt_no       TEXT NOT NULL UNIQUE,
    op_id            TEXT NOT NULL UNIQUE,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    card_number      TEXT NOT NULL REFERENCES cards(number),
    sold_at          INTEGER NOT NULL,
    program_version  INTEGER NOT NULL,
    subtotal         INTEGER NOT NULL CHECK (subtotal > 0),
    discount_total   INTEGER NOT NULL,
    after_discounts  INTEGER NOT NULL,
    points_spent     INTEGER NOT NULL CHECK (points_spent >= 0),
    spend_value      INTEGER NOT NULL,
    to_pay           INTEGER NOT NULL,
    earned           INTEGER NOT NULL CHECK (earned >= 0),
    referrer_points  INTEGER NOT NULL DEFAULT 0,
    returned_amount  INTEGER NOT NULL DEFAULT 0 CHECK (returned_amount BETWEEN 0 AND subtotal),
    returned_spend   INTEGER NOT NULL DEFAULT 0,
    earned_taken     INTEGER NOT NULL DEFAULT 0,
    spent_restored   INTEGER NOT NULL DEFAULT 0,
    quote_json       TEXT NOT NULL
);
CREATE INDEX sales_account_time ON sales(account_id, sold_at);

CREATE TABLE sale_lines (
    sale_id         INTEGER NOT NULL REFERENCES sales(id),
    line_no         INTEGER NOT NULL,
    sku             TEXT NOT NULL,
    category        TEXT,
    qty             INTEGER NOT NULL CHECK (qty > 0),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    returned_qty    INTEGER NOT NULL DEFAULT 0 CHECK (returned_qty BETWEEN 0 AND qty),
    PRIMARY KEY (sale_id, line_no)
) WITHOUT ROWID;

CREATE TABLE lots (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    kind           TEXT NOT NULL,
    earned_at      INTEGER NOT NULL,
    available_at   INTEGER NOT NULL,
    expires_at     INTEGER,
    original       INTEGER NOT NULL CHECK (original > 0),
    remaining      INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= original),
    expired        INTEGER NOT NULL DEFAULT 0 CHECK (expired >= 0),
    source_sale_id INTEGER REFERENCES sales(id),
    op_id          TEXT NOT NULL
);
-- Open lots of an account (balance aggregate, FIFO spend): a partial index stays small.
CREATE INDEX lots_open ON lots(account_id, expires_at) WHERE remaining > 0;
CREATE INDEX lots_account ON lots(account_id, id);
CREATE INDEX lots_expiring ON lots(expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;
CREATE INDEX lots_sale ON lots(source_sale_id) WHERE source_sale_id IS NOT NULL;

CREATE TABLE ledger (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    op_id      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    points     INTEGER NOT NULL,
    lot_id     INTEGER REFERENCES lots(id),
    sale_id    INTEGER REFERENCES sales(id),
    reason     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_account ON ledger(account_id, id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

CREATE TABLE returns (
    id             INTEGER PRIMARY KEY,
    op_id          TEXT NOT NULL UNIQUE,
    sale_id        INTEGER NOT NULL REFERENCES sales(id),
    returned_at    INTEGER NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount >= 0),
    refund         INTEGER NOT NULL,
    earned_taken   INTEGER NOT NULL,
    shortfall      INTEGER NOT NULL,
    spent_restored INTEGER NOT NULL
);
CREATE INDEX returns_sale ON returns(sale_id);

CREATE TABLE return_lines (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    line_no   INTEGER NOT NULL,
    qty       INTEGER NOT NULL CHECK (qty > 0),
    amount    INTEGER NOT NULL,
    PRIMARY KEY (return_id, line_no)
) WITHOUT ROWID;

CREATE TABLE adjustments (
    id         INTEGER PRIMARY KEY,
    op_id      TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    points     INTEGER NOT NULL CHECK (points <> 0),
    reason     TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX adjustments_account ON adjustments(account_id);

CREATE TABLE operations (
    op_id        TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    result       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    op_id      TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    acked      INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1))
);
CREATE INDEX outbox_pending ON outbox(seq) WHERE acked = 0;
