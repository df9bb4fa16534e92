-- A run whose memberships were dropped to keep the number of partitions bounded (every read
-- of segment_memberships plans and locks each partition): its row stays, with its counts.
ALTER TABLE segmentation_runs DROP CONSTRAINT segmentation_runs_status_check;
ALTER TABLE segmentation_runs ADD CONSTRAINT segmentation_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'archived'));
