-- Each customer's metrics over the window, one row per customer. `{window}` is replaced by the
-- window's condition on watch_sessions. Monetary value is the monthly price of the plan of the
-- latest trial or active subscription (as customer_views), 0 without one. scripts/bench/ds
-- times this query alone as the floor of a segmentation run.
WITH activity AS (
    SELECT customer_id,
           count(*) AS frequency,
           sum(minutes)::bigint AS minutes,
           count(*) FILTER (WHERE like_status = 'liked') AS likes,
           count(*) FILTER (WHERE like_status = 'disliked') AS dislikes,
           max(started_at) AS last_session
    FROM watch_sessions
    WHERE {window}
    GROUP BY customer_id
), current_plan AS (
    SELECT DISTINCT ON (s.customer_id) s.customer_id, p.monthly_price_cents
    FROM subscriptions s JOIN plans p ON p.id = s.plan_id
    WHERE s.status IN ('trial', 'active')
    ORDER BY s.customer_id, s.started_at DESC, s.id DESC
)
SELECT c.id AS customer_id,
       coalesce(a.frequency, 0) AS frequency,
       coalesce(a.minutes, 0) AS minutes,
       coalesce(a.likes, 0) AS likes,
       coalesce(a.dislikes, 0) AS dislikes,
       ((now() AT TIME ZONE 'UTC')::date - (a.last_session AT TIME ZONE 'UTC')::date) AS recency_days,
       coalesce(cp.monthly_price_cents, 0) AS price_cents
FROM customers c
LEFT JOIN activity a ON a.customer_id = c.id
LEFT JOIN current_plan cp ON cp.customer_id = c.id
