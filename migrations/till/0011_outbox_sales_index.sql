-- Till store schema, version 11: the scan's probe for the first sale not yet in the
-- server's category summary.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0012_*.sql.
--
-- `categories::merged` (every scan) looks for the first `sale` event of the outbox above
-- the seq the account's summary includes. Through the primary key it read every event in
-- between: after an enrolment drive (thousands of `enrol` events before the next sale) a
-- scan read them all. This index holds the sale events only, in seq order: the probe is
-- one index search however many other events lie in between. A sale adds one entry at
-- the index's end.

CREATE INDEX outbox_sales ON outbox(seq) WHERE kind = 'sale';
