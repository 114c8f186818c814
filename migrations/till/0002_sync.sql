-- Till store schema, version 2: offline sync.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0003_*.sql.
--
-- Additions
--   accounts.uid      global account id (the enrol op id, = the customer uid on the enrolling
--                     till); the `account_uid` of every fact (`loyalty_domain::Fact`).
--   lots.book_lot_id  the lot's id in the pure `loyalty_domain::AccountBook`: "{op_id}:{n}",
--                     n = 0, 1, ... per op and account, in creation order. Rebasing on the
--                     server's book (Store::apply_changes) matches lots by this id.
--   lots.source_op    the op the lot belongs to (the book's `source_op`): the sale for its earn
--                     lots, its referrer lot and the spent points a return of it restored; the
--                     op itself otherwise.
--   sync_state        key/value state of the sync engine: server clock offset, pull cursor,
--                     last sync time, the server's included_upto_seq.
--   outbox.payload    from now on the JSON of a `loyalty_domain::Fact` (rows written before
--                     this migration keep their old ad-hoc JSON). Local expiry sweeps no longer
--                     append an outbox event: every operation that is a fact appends one.
--   ledger kind 'sync' one entry per account and pull with the net difference between the
--                     rebased state and the local one (keeps Σ ledger = Σ remaining − shortfall).

ALTER TABLE accounts ADD COLUMN uid TEXT;
UPDATE accounts SET uid = (SELECT cu.uid FROM customers cu WHERE cu.id = accounts.customer_id);
CREATE UNIQUE INDEX accounts_uid ON accounts(uid);

ALTER TABLE lots ADD COLUMN book_lot_id TEXT;
ALTER TABLE lots ADD COLUMN source_op TEXT;
UPDATE lots SET
    book_lot_id = op_id || ':' || (SELECT COUNT(*) FROM lots l2
                                   WHERE l2.account_id = lots.account_id
                                     AND l2.op_id = lots.op_id AND l2.id < lots.id),
    source_op = COALESCE((SELECT s.op_id FROM sales s WHERE s.id = lots.source_sale_id), op_id);
CREATE UNIQUE INDEX lots_book_id ON lots(account_id, book_lot_id);

CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
