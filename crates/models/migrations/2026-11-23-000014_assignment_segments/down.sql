ALTER TABLE assignments DROP COLUMN segment_id;
