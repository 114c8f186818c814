-- Till store schema, version 9: inserting a lot without a trigger.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0010_*.sql.
--
-- `lots_cache_insert` (0003, 0008) marked the account's cache stale for every lot
-- inserted. A statement that fires a trigger makes SQLite keep a statement journal (a copy
-- of every page it changes, to undo the statement alone): for each lot of a sync page.
-- The two places that insert lots (`ledger::credit`, `rebase::materialise`) now mark the
-- cache stale themselves, once per account, in the same transaction; a test walks every
-- `INSERT INTO lots` of the store's code to keep it so. Updates and deletes of lots and
-- writes of sales keep their triggers.

DROP TRIGGER lots_cache_insert;
