DELETE FROM segmentation_rule_sets WHERE name IN ('classic', 'quantile');
