-- Records the owner's figures need that are not facts of an account (no points move):
-- sales to customers without a loyalty card and NPS answers. Kept here until the sync
-- engine has sent them (`sent_at`), then kept as the till's own record.

CREATE TABLE anonymous_sales (
    op_id       TEXT PRIMARY KEY,            -- UUIDv7 made by the UI: a retry is the same sale
    receipt_no  TEXT NOT NULL UNIQUE,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    recorded_at INTEGER NOT NULL,            -- ms, the till's clock corrected by the server offset
    sent_at     INTEGER
);
CREATE INDEX anonymous_sales_unsent ON anonymous_sales (recorded_at) WHERE sent_at IS NULL;

CREATE TABLE nps_answers (
    id          TEXT PRIMARY KEY,            -- UUID made by the UI: a retry is the same answer
    sale_op_id  TEXT,
    score       INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    recorded_at INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX nps_answers_unsent ON nps_answers (recorded_at) WHERE sent_at IS NULL;
