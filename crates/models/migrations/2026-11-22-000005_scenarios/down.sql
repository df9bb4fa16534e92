DROP TABLE scenario_effects;
DROP TABLE scenarios;
