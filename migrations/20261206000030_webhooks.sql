-- Webhooks (issue 14, item 8): the URLs admins register, and the deliveries
-- owed to each. Events are derived off the message path by a background task
-- (src/server/webhooks/) from the durable tables, with the cursors below, so
-- that nothing is lost in a crash and nothing is added to the writer's work.

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    -- event types, comma-separated: conversation.created,message.created,...
    events     TEXT    NOT NULL,
    -- the HMAC-SHA256 key of X-Kefu-Signature, shown to admins
    secret     TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL -- unix milliseconds, like every *_at column
);

-- One row per event and webhook: pending until delivered (2xx) or given up
-- (failed). event_id is the same for every webhook and every retry.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id        TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    -- whose conversation the payload speaks of (visitor delete removes these)
    conversation_id INTEGER NOT NULL,
    payload         TEXT    NOT NULL, -- the exact JSON body sent
    status          TEXT    NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,   -- e.g. http_500, timeout, connect, private_address
    last_status     INTEGER, -- the receiver's last HTTP status, if any
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    UNIQUE (webhook_id, event_id)
);
-- The due ones, and each conversation's oldest pending one (sent in order).
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(webhook_id, conversation_id, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(created_at);
CREATE INDEX webhook_deliveries_conversation ON webhook_deliveries(conversation_id);

-- How far events have been derived: 'created' (last conversation id),
-- 'closed' (closed_at, ms), 'rated' (ratings.created_at, ms).
CREATE TABLE webhook_cursors (
    name     TEXT    PRIMARY KEY,
    position INTEGER NOT NULL
);
INSERT INTO webhook_cursors (name, position) VALUES ('created', 0), ('closed', 0), ('rated', 0);

-- Each conversation's messages are turned into events up to webhook_seq
-- (like indexed_seq for search).
ALTER TABLE conversations ADD COLUMN webhook_seq INTEGER NOT NULL DEFAULT 0;
-- Whether its conversation.closed event was derived (conversations are never reopened).
-- Until a first webhook is registered nothing is derived; registering the first
-- one moves every cursor to the present (history is not owed to anyone).
ALTER TABLE conversations ADD COLUMN webhook_closed INTEGER NOT NULL DEFAULT 0;
