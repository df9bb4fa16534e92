DROP INDEX conversions_natural_key;
CREATE INDEX conversions_customer_id_idx ON conversions (customer_id, occurred_at);
DROP INDEX events_natural_key;
CREATE INDEX events_customer_id_idx ON events (customer_id, occurred_at);
DROP INDEX watch_sessions_natural_key;
CREATE INDEX watch_sessions_customer_id_idx ON watch_sessions (customer_id, started_at);
DROP INDEX subscriptions_natural_key;
CREATE INDEX subscriptions_customer_id_idx ON subscriptions (customer_id, started_at);
ALTER TABLE titles DROP COLUMN external_id;
