-- Till store schema, version 6: what a member buys, per product category (personal offers).
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0007_*.sql.
--
--   accounts.categories       the server's summary (`loyalty_wire::AccountState.categories`,
--                             every till of the chain) as JSON: at most 8 entries, most
--                             purchases first; NULL when the server has none. One column on
--                             the account rather than a row per category, so a bootstrap of
--                             a million members writes no extra rows and a scan reads no
--                             extra page.
--   accounts.categories_upto  the server's `included_upto_seq` the summary was read with:
--                             this till's sales with an outbox seq above it are not in the
--                             summary yet, and a scan adds them from `sales`/`sale_lines`
--                             (crates/store/src/categories.rs). 0 on an account the
--                             sync has not written since this migration: all its sales.
-- Written by the sync only when changed (no page dirtied otherwise).

ALTER TABLE accounts ADD COLUMN categories TEXT;
ALTER TABLE accounts ADD COLUMN categories_upto INTEGER NOT NULL DEFAULT 0;
