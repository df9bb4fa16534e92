-- Memberships become one partition per segmentation run, with a typed column per metric and
-- per score instead of two JSON documents. A run of a million customers then loads its own
-- table with COPY, builds its indexes once and checks its foreign keys in one pass each when
-- it is attached, instead of parsing JSON, updating three indexes and running three
-- foreign-key checks (each locking a row) per customer. Partitions are named
-- segment_memberships_run_<run id>; a run's partition holds only that run.

DROP VIEW customer_views;
ALTER TABLE segment_memberships RENAME TO segment_memberships_before_partitions;
ALTER INDEX segment_memberships_pkey RENAME TO segment_memberships_before_partitions_pkey;
ALTER INDEX segment_memberships_segment_id_idx RENAME TO segment_memberships_before_partitions_segment_idx;
ALTER INDEX segment_memberships_customer_run_idx RENAME TO segment_memberships_before_partitions_customer_idx;

CREATE TABLE segment_memberships (
    run_id           bigint NOT NULL REFERENCES segmentation_runs (id) ON DELETE CASCADE,
    customer_id      bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    segment_id       bigint NOT NULL REFERENCES segments (id),
    total_score      double precision NOT NULL,
    -- Each metric's value (runs measure all six) and score (NULL where the scheme does not
    -- score the metric; rows moved here from before keep what they had).
    frequency        bigint,
    minutes          bigint,
    monetary         double precision,
    likes            bigint,
    dislikes         bigint,
    recency_days     integer,
    frequency_score  double precision,
    minutes_score    double precision,
    monetary_score   double precision,
    likes_score      double precision,
    dislikes_score   double precision,
    recency_days_score double precision,
    -- A customer's runs in order: their history, and their segment in a given run.
    PRIMARY KEY (customer_id, run_id)
) PARTITION BY LIST (run_id);
CREATE INDEX segment_memberships_segment_id_idx ON segment_memberships (segment_id, run_id);

-- The rows there were, each run in its own partition.
DO $$
DECLARE
    run bigint;
BEGIN
    FOR run IN SELECT DISTINCT run_id FROM segment_memberships_before_partitions LOOP
        EXECUTE format('CREATE TABLE segment_memberships_run_%s PARTITION OF segment_memberships FOR VALUES IN (%s)', run, run);
    END LOOP;
END
$$;
INSERT INTO segment_memberships
SELECT run_id, customer_id, segment_id, total_score,
       (metrics->>'frequency')::bigint, (metrics->>'minutes')::bigint,
       (metrics->>'monetary')::double precision, (metrics->>'likes')::bigint,
       (metrics->>'dislikes')::bigint, (metrics->>'recency_days')::integer,
       (scores->>'frequency')::double precision, (scores->>'minutes')::double precision,
       (scores->>'monetary')::double precision, (scores->>'likes')::double precision,
       (scores->>'dislikes')::double precision, (scores->>'recency_days')::double precision
FROM segment_memberships_before_partitions;
DROP TABLE segment_memberships_before_partitions;

-- As before, except that the latest segment is the customer's segment in the latest succeeded
-- run (every run scores every customer): that run's partition alone is read.
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
    JOIN segments sg ON sg.id = m.segment_id
    WHERE m.customer_id = c.id
      AND m.run_id = (SELECT max(r.id) FROM segmentation_runs r WHERE r.status = 'succeeded')
) g ON true;
