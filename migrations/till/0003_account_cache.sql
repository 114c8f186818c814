-- Till store schema, version 3: the scan's figures kept on the account row.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0004_*.sql.
--
-- A scan must cost about one indexed row read. The figures a scan shows that depend on the
-- account's lots and sales (available, pending, expiring soon, next expiry, spend and
-- purchases in the tier window) are cached on the account, computed at `cache_from` and
-- valid while `cache_from <= now < cache_until` (cache_until = the next moment one of them
-- changes by itself: a lot matures or expires, a sale leaves the window). `cache_window` is
-- the tier window (days; 0 = none) the window figures were computed for.
--
-- Safety: any write to an account's lots or sales marks its cache stale (triggers below,
-- so no write path can forget); a stale or out-of-range cache is never used: the store then
-- reads the lots and sales themselves. Each operation refreshes the stale caches it made
-- before it commits.

ALTER TABLE accounts ADD COLUMN cache_from INTEGER;
ALTER TABLE accounts ADD COLUMN cache_until INTEGER;
ALTER TABLE accounts ADD COLUMN cache_window INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN c_available INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN c_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN c_soon INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN c_next_expiry INTEGER;
ALTER TABLE accounts ADD COLUMN c_win_spend INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN c_win_purchases INTEGER NOT NULL DEFAULT 0;
CREATE INDEX accounts_cache_stale ON accounts(id) WHERE cache_until IS NULL;

CREATE TRIGGER lots_cache_insert AFTER INSERT ON lots
BEGIN UPDATE accounts SET cache_until = NULL WHERE id = NEW.account_id; END;
CREATE TRIGGER lots_cache_update AFTER UPDATE ON lots
BEGIN UPDATE accounts SET cache_until = NULL WHERE id IN (OLD.account_id, NEW.account_id); END;
CREATE TRIGGER lots_cache_delete AFTER DELETE ON lots
BEGIN UPDATE accounts SET cache_until = NULL WHERE id = OLD.account_id; END;
CREATE TRIGGER sales_cache_insert AFTER INSERT ON sales
BEGIN UPDATE accounts SET cache_until = NULL WHERE id = NEW.account_id; END;
CREATE TRIGGER sales_cache_update AFTER UPDATE ON sales
BEGIN UPDATE accounts SET cache_until = NULL WHERE id IN (OLD.account_id, NEW.account_id); END;
