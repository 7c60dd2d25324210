-- Private notes: agents' words about a conversation that only agents read
-- (issue 13). Kept apart from `messages` so that a note takes no seq in the
-- visitor's gapless sequence: it is anchored after the message that was the
-- conversation's newest when it was written (`after_seq`, 0: none yet).
-- client_id is the writer's id for it: a resend is not stored twice.
CREATE TABLE notes (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    after_seq       INTEGER NOT NULL,
    client_id       TEXT    NOT NULL,
    agent_id        INTEGER REFERENCES agents(id) ON DELETE SET NULL,
    author_name     TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    sent_at         INTEGER NOT NULL,
    UNIQUE (conversation_id, client_id)
);
CREATE INDEX notes_anchor ON notes(conversation_id, after_seq, id);
