CREATE INDEX segment_memberships_customer_id_idx ON segment_memberships (customer_id);
DROP INDEX segment_memberships_customer_run_idx;
DROP VIEW customer_views;
