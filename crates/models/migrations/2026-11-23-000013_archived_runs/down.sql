UPDATE segmentation_runs SET status = 'succeeded' WHERE status = 'archived';
ALTER TABLE segmentation_runs DROP CONSTRAINT segmentation_runs_status_check;
ALTER TABLE segmentation_runs ADD CONSTRAINT segmentation_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed'));
