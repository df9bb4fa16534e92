DELETE FROM message_templates WHERE name IN (
    'Plan offer: Basic for $10', 'Plan offer: Premium upgrade', 'Title pick: because you watched',
    'Title pick: new this week', 'Genre pick: more of what you like', 'Genre pick: weekend marathon');
DROP INDEX conversions_beacon_once_idx;
DROP INDEX assignments_customer_id_idx;
CREATE INDEX assignments_customer_id_idx ON assignments (customer_id);
DROP INDEX messages_customer_id_idx;
CREATE INDEX messages_customer_id_idx ON messages (customer_id);
DROP INDEX messages_sending_idx;
DROP INDEX messages_experiment_status_idx;
ALTER TABLE experiments
    DROP COLUMN no_winner_action,
    DROP COLUMN exclusive,
    DROP COLUMN winner_note,
    DROP COLUMN winner_picked_at;
DROP FUNCTION assignment_bucket(text, bigint);
