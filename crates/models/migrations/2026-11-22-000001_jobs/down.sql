DROP TABLE jobs;
DROP FUNCTION set_updated_at();
