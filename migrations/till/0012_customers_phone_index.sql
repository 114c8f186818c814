-- Till store schema, version 12: a customer's phone is unique through a named index.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0013_*.sql.
--
-- 0001 declared `phone TEXT UNIQUE` in the table, an index SQLite owns and nobody can drop.
-- A first start writes a million customers whose phones (and names) come in no useful
-- order: keeping those two indexes current row by row was the largest part of its time.
-- It now drops `customers_phone` and `customers_name_norm` when it starts on an empty
-- store and builds them once after the last page (a sort instead of a million random
-- inserts; `loyalty_store` `bulk.rs`); opening a store builds them if a first start was cut
-- short. The rule is unchanged: at most one customer per phone, NULL for none.
--
-- The table is rebuilt with the same columns in the same order (the migration runner
-- turns foreign key enforcement off around every migration and checks the keys before it
-- commits; `accounts.customer_id` and `customers.referrer_id` keep pointing at the same
-- ids).

CREATE TABLE customers_v12 (
    id                INTEGER PRIMARY KEY,
    uid               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    name_norm         TEXT NOT NULL,
    phone             TEXT,
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
INSERT INTO customers_v12 (id, uid, name, name_norm, phone, email, birthday, gender,
    age_group, home_store, preferred_channel, marketing_consent, consent_at, tags,
    referrer_id, enrolled_at, enrolled_store, enrolled_till, op_id)
SELECT id, uid, name, name_norm, phone, email, birthday, gender,
    age_group, home_store, preferred_channel, marketing_consent, consent_at, tags,
    referrer_id, enrolled_at, enrolled_store, enrolled_till, op_id
FROM customers;
DROP TABLE customers;
ALTER TABLE customers_v12 RENAME TO customers;
CREATE UNIQUE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_name_norm ON customers(name_norm);
CREATE INDEX customers_referrer ON customers(referrer_id) WHERE referrer_id IS NOT NULL;
