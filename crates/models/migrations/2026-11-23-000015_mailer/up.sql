-- HMAC-SHA256 for the assignment buckets, computed where the audience is (set-based SQL).
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The position of a customer in an experiment: the first 52 bits of
-- HMAC-SHA256(key = salt, message = the customer id in decimal) over 2^52, in [0, 1).
-- Anyone with the salt can recompute a split (models::assignment::bucket does the same in Rust).
CREATE FUNCTION assignment_bucket(salt text, customer_id bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ('x' || substr(encode(hmac(customer_id::text, salt, 'sha256'), 'hex'), 1, 13))::bit(52)::bigint
           / 4503599627370496.0::double precision;

-- What a test-then-winner experiment sends the rest of its audience when the test finds no
-- significant winner: the control's e-mail, or nothing.
ALTER TABLE experiments
    ADD COLUMN no_winner_action text NOT NULL DEFAULT 'control' CHECK (no_winner_action IN ('control', 'nothing')),
    -- Keep customers already in another running or paused experiment out of the audience.
    ADD COLUMN exclusive boolean NOT NULL DEFAULT true,
    -- The test phase's outcome, in words ("no winner: ..."), once picked.
    ADD COLUMN winner_note text,
    ADD COLUMN winner_picked_at timestamptz;

-- Claims look for due messages of running experiments.
CREATE INDEX messages_experiment_status_idx ON messages (experiment_id, status);
-- The messages on the wire, few at any time: a sender's heartbeat renews its own, and claims
-- settle those a dead sender left (without reading the whole queue of due messages).
CREATE INDEX messages_sending_idx ON messages (lease_owner, next_attempt_at) WHERE status = 'sending';
-- The frequency cap counts a customer's recent e-mails.
DROP INDEX messages_customer_id_idx;
CREATE INDEX messages_customer_id_idx ON messages (customer_id, queued_at);
-- Mutual exclusion looks up a customer's assignments.
DROP INDEX assignments_customer_id_idx;
CREATE INDEX assignments_customer_id_idx ON assignments (customer_id, experiment_id);

-- The conversion beacon counts a message's conversion of a kind once, however often posted.
CREATE UNIQUE INDEX conversions_beacon_once_idx ON conversions (message_id, kind) WHERE source = 'beacon';

-- The template library new experiments start from: the original system's six messages.
INSERT INTO message_templates (name, kind, subject, body_text, body_html, links) VALUES
('Plan offer: Basic for $10', 'plan_offer',
 'Basic for $10 a month, {{first_name}}',
 E'Hi {{first_name}},\n\nSwitch to Basic for $10 a month and keep watching everything you love (your plan today: {{plan}}, {{price}} a month).\n\nSwitch now: {{link:offer}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p>Switch to <strong>Basic for $10 a month</strong> and keep watching everything you love (your plan today: {{plan}}, {{price}} a month).</p><p><a href="{{link:offer}}">Switch now</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"offer": "https://streamlab.example/offer/basic-10"}'),
('Plan offer: Premium upgrade', 'plan_offer',
 '{{first_name}}, Premium for $15 this month',
 E'Hi {{first_name}},\n\nPremium is $15 this month: 4K, four screens, downloads (your plan today: {{plan}}).\n\nUpgrade: {{link:offer}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p><strong>Premium is $15 this month</strong>: 4K, four screens, downloads (your plan today: {{plan}}).</p><p><a href="{{link:offer}}">Upgrade</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"offer": "https://streamlab.example/offer/premium-15"}'),
('Title pick: because you watched', 'title_recommendation',
 '{{first_name}}, we think you will love {{title}}',
 E'Hi {{first_name}},\n\nFans of {{genre}} are watching {{title}} right now.\n\nWatch it: {{link:title}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p>Fans of {{genre}} are watching <strong>{{title}}</strong> right now.</p><p><a href="{{link:title}}">Watch it</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"title": "https://streamlab.example/browse/recommended"}'),
('Title pick: new this week', 'title_recommendation',
 'New for you this week: {{title}}',
 E'Hi {{first_name}},\n\n{{title}} just arrived, picked for you.\n\nStart watching: {{link:title}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p><strong>{{title}}</strong> just arrived, picked for you.</p><p><a href="{{link:title}}">Start watching</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"title": "https://streamlab.example/browse/new"}'),
('Genre pick: more of what you like', 'genre_recommendation',
 'More {{genre}} for you, {{first_name}}',
 E'Hi {{first_name}},\n\nWe have added more {{genre}}. Have a look.\n\nBrowse {{genre}}: {{link:genre}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p>We have added more <strong>{{genre}}</strong>. Have a look.</p><p><a href="{{link:genre}}">Browse {{genre}}</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"genre": "https://streamlab.example/browse/genres"}'),
('Genre pick: weekend marathon', 'genre_recommendation',
 'Your {{genre}} weekend, {{first_name}}',
 E'Hi {{first_name}},\n\nPlan a {{genre}} marathon this weekend: start with {{title}}.\n\nSee the list: {{link:genre}}\n\nUnsubscribe: {{unsubscribe_url}}',
 '<p>Hi {{first_name}},</p><p>Plan a <strong>{{genre}}</strong> marathon this weekend: start with {{title}}.</p><p><a href="{{link:genre}}">See the list</a></p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>',
 '{"genre": "https://streamlab.example/browse/genres"}')
ON CONFLICT (name) DO NOTHING;
