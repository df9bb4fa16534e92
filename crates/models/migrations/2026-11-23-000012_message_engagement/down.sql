DROP TRIGGER message_events_note_engagement ON message_events;
DROP FUNCTION messages_note_engagement();
ALTER TABLE messages DROP COLUMN opened_at, DROP COLUMN clicked_at, DROP COLUMN bounced_at;
