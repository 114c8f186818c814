-- Till store schema, version 7: merged duplicate customers.
--
-- NEVER EDIT THIS FILE once it has been applied anywhere (see 0001_init.sql): add 0008_*.sql.
--
-- accounts.merged_into  the survivor's account uid once the owner merged this account into it
--                       on the server (AccountState.merged_into). From then on its cards and
--                       sales are the survivor's, its lots are empty (the survivor's book has
--                       them), a lookup by its customer's phone shows the survivor, and this
--                       till's facts on it not yet included by the server are rebased onto
--                       the survivor (the server applies them there too). NULL otherwise.
ALTER TABLE accounts ADD COLUMN merged_into TEXT;
CREATE INDEX accounts_merged_into ON accounts(merged_into) WHERE merged_into IS NOT NULL;
