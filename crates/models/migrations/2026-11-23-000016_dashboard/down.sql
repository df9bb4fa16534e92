DROP INDEX subscriptions_churned_at_idx;
DROP INDEX watch_sessions_started_at_idx;
DELETE FROM jobs WHERE kind = 'report';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check,
    ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('generate', 'import', 'export', 'segmentation', 'analysis', 'send'));
DROP TABLE report_snapshots;
DROP TABLE sessions;
