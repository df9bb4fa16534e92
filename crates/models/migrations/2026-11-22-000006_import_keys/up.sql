-- Imports from other systems refer to titles by those systems' ids.
ALTER TABLE titles ADD COLUMN external_id text UNIQUE CHECK (external_id <> '');

-- Natural keys of the facts: the same fact imported twice is one row, so an import can be
-- repeated safely (ON CONFLICT DO NOTHING). Each replaces the plain index it extends.
DROP INDEX subscriptions_customer_id_idx;
CREATE UNIQUE INDEX subscriptions_natural_key ON subscriptions (customer_id, started_at, plan_id);
DROP INDEX watch_sessions_customer_id_idx;
CREATE UNIQUE INDEX watch_sessions_natural_key ON watch_sessions (customer_id, started_at, title_id);
DROP INDEX events_customer_id_idx;
CREATE UNIQUE INDEX events_natural_key ON events (customer_id, occurred_at, name);
DROP INDEX conversions_customer_id_idx;
CREATE UNIQUE INDEX conversions_natural_key ON conversions (customer_id, occurred_at, kind);
