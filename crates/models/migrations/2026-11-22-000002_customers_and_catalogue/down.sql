DROP TABLE feature_exposures;
DROP TABLE events;
DROP TABLE watch_sessions;
DROP TABLE subscriptions;
DROP TABLE titles;
DROP TABLE customers;
DROP TABLE plans;
