-- The customer's segment when they were assigned. An analysis breaks results down by it: a
-- segment measured after the e-mail could itself be moved by the e-mail (a post-treatment
-- variable), and looking it up at analysis time meant joining a million memberships.
-- Written by whoever assigns (NULL for history without it).
ALTER TABLE assignments ADD COLUMN segment_id bigint REFERENCES segments (id);
CREATE INDEX assignments_segment_id_idx ON assignments (segment_id);
