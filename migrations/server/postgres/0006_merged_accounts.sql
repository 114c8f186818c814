-- Merging duplicate customers. The twin of migrations/server/sqlite/0006_merged_accounts.sql.
-- Never edit once released.
-- accounts.merged_into: the survivor's uid once an owner merged this account into it (a
-- `merge` fact, server/src/backend/apply.rs). Its book is empty from then on, its cards and
-- active reservations belong to the survivor, and every later fact naming it is applied to
-- the survivor (followed along chains). NULL for every account that was never merged.
ALTER TABLE accounts ADD COLUMN merged_into TEXT;
