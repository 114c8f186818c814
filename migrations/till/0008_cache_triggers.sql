-- Till store schema, version 8: cheaper writes of lots and sales.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0009_*.sql.
--
-- The cache-invalidating triggers of 0003 rewrote the account row for every lot or sale
-- written, also when its cache was stale already: a sync page inserting ten lots of one
-- account rewrote its row ten times. The same triggers now write only a cache that is
-- not stale yet (same effect: `cache_until IS NULL` afterwards, the account listed by
-- `accounts_cache_stale`).
--
-- `lots_account (account_id, id)` goes: every read of an account's lots is served by
-- `lots_book_id (account_id, book_lot_id)` (the same leading column) or by `lots_open`,
-- and each lot written maintained one index less.

DROP TRIGGER lots_cache_insert;
DROP TRIGGER lots_cache_update;
DROP TRIGGER lots_cache_delete;
DROP TRIGGER sales_cache_insert;
DROP TRIGGER sales_cache_update;

CREATE TRIGGER lots_cache_insert AFTER INSERT ON lots
BEGIN UPDATE accounts SET cache_until = NULL
      WHERE id = NEW.account_id AND cache_until IS NOT NULL; END;
CREATE TRIGGER lots_cache_update AFTER UPDATE ON lots
BEGIN UPDATE accounts SET cache_until = NULL
      WHERE id IN (OLD.account_id, NEW.account_id) AND cache_until IS NOT NULL; END;
CREATE TRIGGER lots_cache_delete AFTER DELETE ON lots
BEGIN UPDATE accounts SET cache_until = NULL
      WHERE id = OLD.account_id AND cache_until IS NOT NULL; END;
CREATE TRIGGER sales_cache_insert AFTER INSERT ON sales
BEGIN UPDATE accounts SET cache_until = NULL
      WHERE id = NEW.account_id AND cache_until IS NOT NULL; END;
CREATE TRIGGER sales_cache_update AFTER UPDATE ON sales
BEGIN UPDATE accounts SET cache_until = NULL
      WHERE id IN (OLD.account_id, NEW.account_id) AND cache_until IS NOT NULL; END;

DROP INDEX lots_account;
