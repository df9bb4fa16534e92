DROP VIEW customer_views;
ALTER TABLE segment_memberships RENAME TO segment_memberships_partitioned;
ALTER INDEX segment_memberships_pkey RENAME TO segment_memberships_partitioned_pkey;
ALTER INDEX segment_memberships_segment_id_idx RENAME TO segment_memberships_partitioned_segment_idx;
CREATE TABLE segment_memberships (
    run_id      bigint NOT NULL REFERENCES segmentation_runs (id) ON DELETE CASCADE,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    segment_id  bigint NOT NULL REFERENCES segments (id),
    metrics     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    scores      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(scores) = 'object'),
    total_score double precision NOT NULL,
    PRIMARY KEY (run_id, customer_id)
);
INSERT INTO segment_memberships
SELECT run_id, customer_id, segment_id,
       jsonb_strip_nulls(jsonb_build_object('frequency', frequency, 'minutes', minutes, 'monetary', monetary,
           'likes', likes, 'dislikes', dislikes, 'recency_days', recency_days)),
       jsonb_strip_nulls(jsonb_build_object('frequency', frequency_score, 'minutes', minutes_score,
           'monetary', monetary_score, 'likes', likes_score, 'dislikes', dislikes_score,
           'recency_days', recency_days_score)),
       total_score
FROM segment_memberships_partitioned;
DROP TABLE segment_memberships_partitioned;
CREATE INDEX segment_memberships_segment_id_idx ON segment_memberships (segment_id, run_id);
CREATE INDEX segment_memberships_customer_run_idx ON segment_memberships (customer_id, run_id DESC);
CREATE VIEW customer_views AS
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
    JOIN segmentation_runs r ON r.id = m.run_id AND r.status = 'succeeded'
    JOIN segments sg ON sg.id = m.segment_id
    WHERE m.customer_id = c.id
    ORDER BY m.run_id DESC
    LIMIT 1
) g ON true;
