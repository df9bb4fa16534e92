DROP TABLE segment_memberships;
DROP TABLE segmentation_runs;
DROP TABLE segmentation_rule_sets;
DROP TABLE segments;
