-- Each message remembers its first human open and click and its bounce, kept by a trigger on
-- message_events whoever writes them (mailer, import, generator). An analysis then reads one
-- row per recipient instead of aggregating every event of the experiment. Events are only
-- ever added, so the first times never move back.
ALTER TABLE messages
    ADD COLUMN opened_at timestamptz,
    ADD COLUMN clicked_at timestamptz,
    ADD COLUMN bounced_at timestamptz;

UPDATE messages m
SET opened_at = e.opened_at, clicked_at = e.clicked_at, bounced_at = e.bounced_at
FROM (SELECT message_id,
             min(occurred_at) FILTER (WHERE kind = 'open' AND NOT is_bot) AS opened_at,
             min(occurred_at) FILTER (WHERE kind = 'click' AND NOT is_bot) AS clicked_at,
             min(occurred_at) FILTER (WHERE kind = 'bounce') AS bounced_at
      FROM message_events GROUP BY message_id) e
WHERE m.id = e.message_id
  AND (e.opened_at IS NOT NULL OR e.clicked_at IS NOT NULL OR e.bounced_at IS NOT NULL);

-- One statement per insert statement (a COPY of a million events is one UPDATE).
CREATE FUNCTION messages_note_engagement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages m
    SET opened_at = least(m.opened_at, e.opened_at),
        clicked_at = least(m.clicked_at, e.clicked_at),
        bounced_at = least(m.bounced_at, e.bounced_at)
    FROM (SELECT message_id,
                 min(occurred_at) FILTER (WHERE kind = 'open' AND NOT is_bot) AS opened_at,
                 min(occurred_at) FILTER (WHERE kind = 'click' AND NOT is_bot) AS clicked_at,
                 min(occurred_at) FILTER (WHERE kind = 'bounce') AS bounced_at
          FROM new_events GROUP BY message_id) e
    WHERE m.id = e.message_id
      AND (e.opened_at < m.opened_at OR (e.opened_at IS NOT NULL AND m.opened_at IS NULL)
        OR e.clicked_at < m.clicked_at OR (e.clicked_at IS NOT NULL AND m.clicked_at IS NULL)
        OR e.bounced_at < m.bounced_at OR (e.bounced_at IS NOT NULL AND m.bounced_at IS NULL));
    RETURN NULL;
END
$$;
CREATE TRIGGER message_events_note_engagement AFTER INSERT ON message_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION messages_note_engagement();
