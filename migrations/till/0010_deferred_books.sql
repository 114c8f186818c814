-- Till store schema, version 10: server books kept as they came, lots written on first use.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0011_*.sql.
--
-- A sync page (or a first start's snapshot page) brings the server's book of accounts this
-- till has nothing pending on; most of them are never touched here again before the next
-- page replaces them. Writing each book's lots as rows (four indexes each) and posting a
-- `sync` ledger entry was most of a till's work in a bootstrap and after an outage. Such a
-- book is now stored as it came:
--
--   accounts.server_book     the lots of the server's `AccountBook` this account's lot and
--                            ledger rows have not caught up with yet, as a compact JSON array
--                            (`books::StoredLot`: times in unix ms); the book's shortfall and
--                            counters are the row's columns (NULL: the rows are current);
--   accounts.server_book_op  the op id its `sync` ledger entry will carry ("sync:{cursor}");
--   accounts.server_book_at  the server time of the page that brought it (unix ms).
--
-- While set, the account's balance, scan figures and shortfall come from the book (the
-- shortfall and counters columns are written from it at once); the lots and ledger rows
-- keep their last materialised state and `Σ ledger = Σ remaining − shortfall` is checked
-- once they are caught up. The first operation that writes the account's points (sale,
-- return, adjustment, history view, a later page with this till's facts on it)
-- materialises the book first: lots matched by `book_lot_id`, one `sync` entry for the
-- difference, the column set back to NULL. The local expiry sweep leaves such accounts
-- alone (the book's balance already leaves out lots past their expiry).

ALTER TABLE accounts ADD COLUMN server_book TEXT;
ALTER TABLE accounts ADD COLUMN server_book_op TEXT;
ALTER TABLE accounts ADD COLUMN server_book_at INTEGER;
CREATE INDEX accounts_deferred ON accounts(id) WHERE server_book IS NOT NULL;
