-- Webhook events on PostgreSQL (src/server/storage/postgres/webhooks/):
-- flags instead of cursors. Several nodes commit at once and sequence values
-- commit out of order, so a cursor over ids or times could step over a row
-- that commits late; a flag set in the transaction that derives the event
-- cannot. Events are owed from 'since' on (the time the first webhook was
-- registered): what happened before is history, owed to no one.

-- Whether this conversation's conversation.created was derived.
ALTER TABLE conversations ADD COLUMN webhook_created BOOLEAN NOT NULL DEFAULT FALSE;
-- Whether this rating's rating.given was derived.
ALTER TABLE ratings ADD COLUMN webhook_given BOOLEAN NOT NULL DEFAULT FALSE;

-- What is still owed, found without reading what is done.
CREATE INDEX conversations_webhook_created ON conversations (created_at, id)
    WHERE NOT webhook_created;
CREATE INDEX conversations_webhook_closed ON conversations (closed_at, id)
    WHERE status = 'closed' AND NOT webhook_closed;
CREATE INDEX ratings_webhook_given ON ratings (created_at, conversation_id)
    WHERE NOT webhook_given;

-- 'since' (unix ms): events stamped earlier are not owed. Set again when a
-- first webhook is registered; starts now, so that nothing stored before
-- this migration is ever owed. The rows 'created', 'closed' and 'rated' of
-- the init migration are SQLite's cursors, unused here.
INSERT INTO webhook_cursors (name, position)
VALUES ('since', (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT);
