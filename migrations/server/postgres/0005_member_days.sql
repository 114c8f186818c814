-- The dashboard's distinct buyers over long periods. The twin of
-- migrations/server/sqlite/0005_member_days.sql. Never edit once released.
-- member_days: on which UTC days a member bought (sale_facts rows with member_no), as
-- bits: one row per member and era of 2016 days (era = days since 1970-01-01 / 2016; day
-- i of the era is bit i % 63 of word w{i / 63}). Written by ingest in the transaction that
-- applies the sale (one upsert ORing the day's bit in); backfilled from sale_facts on the
-- first start after this migration (analytics_state.member_days 0 -> 1).
CREATE TABLE member_days (
    member_no BIGINT NOT NULL,
    era       BIGINT NOT NULL,
    w0 BIGINT NOT NULL DEFAULT 0,
    w1 BIGINT NOT NULL DEFAULT 0,
    w2 BIGINT NOT NULL DEFAULT 0,
    w3 BIGINT NOT NULL DEFAULT 0,
    w4 BIGINT NOT NULL DEFAULT 0,
    w5 BIGINT NOT NULL DEFAULT 0,
    w6 BIGINT NOT NULL DEFAULT 0,
    w7 BIGINT NOT NULL DEFAULT 0,
    w8 BIGINT NOT NULL DEFAULT 0,
    w9 BIGINT NOT NULL DEFAULT 0,
    w10 BIGINT NOT NULL DEFAULT 0,
    w11 BIGINT NOT NULL DEFAULT 0,
    w12 BIGINT NOT NULL DEFAULT 0,
    w13 BIGINT NOT NULL DEFAULT 0,
    w14 BIGINT NOT NULL DEFAULT 0,
    w15 BIGINT NOT NULL DEFAULT 0,
    w16 BIGINT NOT NULL DEFAULT 0,
    w17 BIGINT NOT NULL DEFAULT 0,
    w18 BIGINT NOT NULL DEFAULT 0,
    w19 BIGINT NOT NULL DEFAULT 0,
    w20 BIGINT NOT NULL DEFAULT 0,
    w21 BIGINT NOT NULL DEFAULT 0,
    w22 BIGINT NOT NULL DEFAULT 0,
    w23 BIGINT NOT NULL DEFAULT 0,
    w24 BIGINT NOT NULL DEFAULT 0,
    w25 BIGINT NOT NULL DEFAULT 0,
    w26 BIGINT NOT NULL DEFAULT 0,
    w27 BIGINT NOT NULL DEFAULT 0,
    w28 BIGINT NOT NULL DEFAULT 0,
    w29 BIGINT NOT NULL DEFAULT 0,
    w30 BIGINT NOT NULL DEFAULT 0,
    w31 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (member_no, era)
);
INSERT INTO analytics_state (name, value) VALUES ('member_days', 0);

-- One store's buyers of a period read only that store's sales.
CREATE INDEX sale_facts_store ON sale_facts (store_id, day, member_no);
