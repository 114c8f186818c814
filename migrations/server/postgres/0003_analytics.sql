-- The owner's back-office (dashboard, trigger lists, owner token). The twin of
-- migrations/server/sqlite/0003_analytics.sql: same tables and columns. Never edit once
-- released. Every row here is derived from the applied facts, written in the transaction
-- that applies the fact (server/src/backend/analytics/record.rs); a database made before
-- this migration is backfilled from `events` on the first start (analytics_state).
-- Days are 'YYYY-MM-DD' (UTC) text, times RFC 3339 text (text order = time order).

-- One row per member sale (member_no set) and per sale without a card (member_no NULL).
-- op_id is unique through `events` / `anonymous_sales`, so no index is kept on it.
CREATE TABLE sale_facts (
    op_id         TEXT NOT NULL,
    member_no     BIGINT,                     -- customer_stats.member_no; NULL: no card
    account_uid   TEXT,
    store_id      TEXT NOT NULL,
    till_id       TEXT NOT NULL,
    day           TEXT NOT NULL,
    at            TEXT NOT NULL,              -- the event time
    amount        BIGINT NOT NULL,            -- after discounts
    discount      BIGINT NOT NULL,
    points_spent  BIGINT NOT NULL,
    points_earned BIGINT NOT NULL,
    categories    TEXT NOT NULL               -- the lines' distinct categories, ',' separated
);
CREATE INDEX sale_facts_day ON sale_facts (day, store_id, member_no);

CREATE TABLE return_facts (
    op_id          TEXT PRIMARY KEY,
    sale_op_id     TEXT NOT NULL,
    account_uid    TEXT NOT NULL,
    store_id       TEXT NOT NULL,
    till_id        TEXT NOT NULL,
    day            TEXT NOT NULL,
    at             TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    spend_returned BIGINT NOT NULL,
    earned_taken   BIGINT NOT NULL,
    spent_restored BIGINT NOT NULL
);

-- Sales without a card reported by tills (POST /api/v1/anonymous-sales): idempotency.
CREATE TABLE anonymous_sales (
    op_id       TEXT PRIMARY KEY,
    till_id     TEXT NOT NULL,
    receipt_no  TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- One row per member: what the dashboard and the trigger lists read instead of books.
CREATE TABLE customer_stats (
    account_uid    TEXT PRIMARY KEY,
    member_no      BIGINT NOT NULL UNIQUE,    -- gseq of the enrolment
    customer_uid   TEXT NOT NULL,
    store_id       TEXT NOT NULL,             -- store of the enrolling till
    enrolled_at    TEXT NOT NULL,
    birthday_md    TEXT,                      -- 'MM-DD'
    consent        BOOLEAN NOT NULL,
    first_purchase TEXT,
    last_purchase  TEXT,
    purchases      BIGINT NOT NULL,           -- fully returned sales do not count
    net_spend      BIGINT NOT NULL,           -- after discounts, minus returns
    outstanding    BIGINT NOT NULL,           -- available + pending points, unexpired
    shortfall      BIGINT NOT NULL,
    next_expiry    TEXT                       -- earliest expiry of a lot with points left
);
CREATE INDEX customer_stats_expiry ON customer_stats (next_expiry);
CREATE INDEX customer_stats_last ON customer_stats (last_purchase);

-- Per day and store (the till's store; expired points: the member's store).
CREATE TABLE daily_stats (
    day               TEXT NOT NULL,
    store_id          TEXT NOT NULL,
    member_sales      BIGINT NOT NULL DEFAULT 0,
    member_amount     BIGINT NOT NULL DEFAULT 0,
    anon_sales        BIGINT NOT NULL DEFAULT 0,
    anon_amount       BIGINT NOT NULL DEFAULT 0,
    discount          BIGINT NOT NULL DEFAULT 0,
    new_members       BIGINT NOT NULL DEFAULT 0,
    points_earned     BIGINT NOT NULL DEFAULT 0,
    points_spent      BIGINT NOT NULL DEFAULT 0,
    points_expired    BIGINT NOT NULL DEFAULT 0,
    points_adjusted   BIGINT NOT NULL DEFAULT 0,
    points_taken_back BIGINT NOT NULL DEFAULT 0,
    points_restored   BIGINT NOT NULL DEFAULT 0,
    returns           BIGINT NOT NULL DEFAULT 0,
    return_amount     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, store_id)
);

-- 0–10 answers collected at the tills (POST /api/v1/nps), idempotent on id.
CREATE TABLE nps_answers (
    id         TEXT PRIMARY KEY,
    sale_op_id TEXT,
    till_id    TEXT NOT NULL,
    store_id   TEXT NOT NULL,
    day        TEXT NOT NULL,
    score      BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- The owner's token (one row, id 'owner'): only its SHA-256; a new one replaces it.
CREATE TABLE owner_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- 'backfilled' = 0 until the rows above were derived from the events applied before.
CREATE TABLE analytics_state (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO analytics_state (name, value) VALUES ('backfilled', 0);
