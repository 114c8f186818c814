-- The dashboard's distinct buyers over long periods. The twin of
-- migrations/server/postgres/0005_member_days.sql. Never edit once released.
-- member_days: on which UTC days a member bought (sale_facts rows with member_no), as
-- bits. Day n (days since 1970-01-01) is bit (n % 2016) % 63 of word (n % 2016) / 63 in
-- the row of era n / 2016, and of word 32 + (n % 2016) / 63 in the row of era n / 2016 - 1:
-- a row covers 4032 days and rows overlap by half, so any 2016 days lie within one row of
-- each member. Words never set stay NULL (no storage). Written by ingest in the
-- transaction that applies the sale (one upsert ORing the day's bit into both rows);
-- backfilled from sale_facts on the first start after this migration
-- (analytics_state.member_days 0 -> 1).
CREATE TABLE member_days (
    era       BIGINT NOT NULL,
    member_no BIGINT NOT NULL,
    w0 BIGINT,
    w1 BIGINT,
    w2 BIGINT,
    w3 BIGINT,
    w4 BIGINT,
    w5 BIGINT,
    w6 BIGINT,
    w7 BIGINT,
    w8 BIGINT,
    w9 BIGINT,
    w10 BIGINT,
    w11 BIGINT,
    w12 BIGINT,
    w13 BIGINT,
    w14 BIGINT,
    w15 BIGINT,
    w16 BIGINT,
    w17 BIGINT,
    w18 BIGINT,
    w19 BIGINT,
    w20 BIGINT,
    w21 BIGINT,
    w22 BIGINT,
    w23 BIGINT,
    w24 BIGINT,
    w25 BIGINT,
    w26 BIGINT,
    w27 BIGINT,
    w28 BIGINT,
    w29 BIGINT,
    w30 BIGINT,
    w31 BIGINT,
    w32 BIGINT,
    w33 BIGINT,
    w34 BIGINT,
    w35 BIGINT,
    w36 BIGINT,
    w37 BIGINT,
    w38 BIGINT,
    w39 BIGINT,
    w40 BIGINT,
    w41 BIGINT,
    w42 BIGINT,
    w43 BIGINT,
    w44 BIGINT,
    w45 BIGINT,
    w46 BIGINT,
    w47 BIGINT,
    w48 BIGINT,
    w49 BIGINT,
    w50 BIGINT,
    w51 BIGINT,
    w52 BIGINT,
    w53 BIGINT,
    w54 BIGINT,
    w55 BIGINT,
    w56 BIGINT,
    w57 BIGINT,
    w58 BIGINT,
    w59 BIGINT,
    w60 BIGINT,
    w61 BIGINT,
    w62 BIGINT,
    w63 BIGINT,
    PRIMARY KEY (era, member_no)
) WITHOUT ROWID;
INSERT INTO analytics_state (name, value) VALUES ('member_days', 0);

-- One store's buyers of a period read only that store's sales.
CREATE INDEX sale_facts_store ON sale_facts (store_id, day, member_no);
