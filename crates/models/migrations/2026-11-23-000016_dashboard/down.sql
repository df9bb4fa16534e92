CREATE OR REPLACE VIEW customer_views AS
SELECT c.*,
       p.plan_id AS current_plan_id,
       p.plan AS current_plan,
       g.segment_id AS latest_segment_id,
       g.segment AS latest_segment
FROM customers c
LEFT JOIN LATERAL (
    SELECT pl.id AS plan_id, to_jsonb(pl) AS plan
    FROM subscriptions s JOIN plans pl ON pl.id = s.plan_id
    WHERE s.customer_id = c.id AND s.status IN ('trial', 'active')
    ORDER BY s.started_at DESC, s.id DESC
    LIMIT 1
) p ON true
LEFT JOIN LATERAL (
    SELECT sg.id AS segment_id, to_jsonb(sg) AS segment
    FROM segment_memberships m
    JOIN segments sg ON sg.id = m.segment_id
    WHERE m.customer_id = c.id
      AND m.run_id = (SELECT max(r.id) FROM segmentation_runs r WHERE r.status = 'succeeded')
) g ON true;
DROP INDEX customers_email_trgm_idx;
DROP INDEX subscriptions_churned_at_idx;
DROP INDEX watch_sessions_started_at_idx;
DELETE FROM jobs WHERE kind = 'report';
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check,
    ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('generate', 'import', 'export', 'segmentation', 'analysis', 'send'));
DROP TABLE report_snapshots;
DROP TABLE sessions;
