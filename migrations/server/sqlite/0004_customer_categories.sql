-- Personal offers: what each member buys, per product category of the sale lines. The
-- twin of migrations/server/postgres/0004_customer_categories.sql. Never edit once
-- released. Maintained in the transaction that applies a sale
-- (server/src/backend/analytics/record.rs, category_stmts); returns do not change it (it
-- counts purchase occasions). A database that applied sales before this migration is
-- backfilled from `events` on the first start ('categories_backfilled' below).
CREATE TABLE customer_categories (
    account_uid TEXT NOT NULL,
    category    TEXT NOT NULL,               -- trimmed, at most 64 characters
    purchases   BIGINT NOT NULL,             -- sales with a line in the category
    amount      BIGINT NOT NULL,             -- sum of those lines' amounts (minor units)
    last_at     TEXT NOT NULL,               -- RFC 3339, the latest such sale's event time
    PRIMARY KEY (account_uid, category)
);

-- 0 until customer_categories was derived from the sales applied before this migration.
INSERT INTO analytics_state (name, value) VALUES ('categories_backfilled', 0);
