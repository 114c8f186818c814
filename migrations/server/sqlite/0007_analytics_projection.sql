-- The owner's analytics behind the event log (SQLite only; PostgreSQL keeps writing them
-- in the applying transaction). Never edit once released.
--
-- An upload's transaction no longer writes the owner's rows (customer_stats, sale_facts,
-- return_facts, member_days, daily_stats): a projection follows `events` in gseq order
-- and writes them, its position in analytics_state 'projected_gseq'
-- (server/src/backend/analytics/projection.rs). Every event applied before this
-- migration already has its rows: the position starts at the last one.
--
-- events.applied_fact: the fact as applied when it differs from the one the till sent (a
-- fact naming a merged account is applied to the survivor); NULL otherwise. The
-- projection reads COALESCE(applied_fact, fact).

ALTER TABLE events ADD COLUMN applied_fact TEXT;

INSERT INTO analytics_state (name, value)
SELECT 'projected_gseq', COALESCE(MAX(gseq), 0) FROM events;
