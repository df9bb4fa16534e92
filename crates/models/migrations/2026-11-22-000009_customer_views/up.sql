-- A customer with the plan of their latest trial or active subscription and the segment of
-- the latest succeeded segmentation run that scored them, each as the JSON of its row (and its id, for filters).
-- One statement serves a customer or a page of customers: the lookups run as lateral
-- subqueries for the rows returned only. `c.*` is fixed when the view is created: a column
-- added to customers later needs this view created again.
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

-- The latest run of a customer, found without reading every run they were in.
CREATE INDEX segment_memberships_customer_run_idx ON segment_memberships (customer_id, run_id DESC);
DROP INDEX segment_memberships_customer_id_idx;
