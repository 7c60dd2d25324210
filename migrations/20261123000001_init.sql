-- kefu's first schema. Never edit a migration once merged: add a new one.

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    capacity      INTEGER NOT NULL DEFAULT 5,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Agent sign-in sessions; only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Visitors are known by a random token kept in their browser; only its hash is stored.
CREATE TABLE visitors (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE conversations (
    id             INTEGER PRIMARY KEY,
    visitor_id     INTEGER NOT NULL REFERENCES visitors(id),
    agent_id       INTEGER REFERENCES agents(id),
    status         TEXT    NOT NULL CHECK (status IN ('queued', 'assigned', 'closed')),
    last_seq       INTEGER NOT NULL DEFAULT 0,
    agent_read_seq INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    queued_at      INTEGER NOT NULL,
    closed_at      INTEGER
);
CREATE INDEX conversations_open ON conversations(status) WHERE status != 'closed';
CREATE INDEX conversations_visitor ON conversations(visitor_id, id);

-- seq is the per-conversation order, given by the server inside the storing transaction.
-- client_id is the sender's id for the message: a resend is recognised and not stored twice.
CREATE TABLE messages (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    seq             INTEGER NOT NULL,
    client_id       TEXT    NOT NULL,
    author          TEXT    NOT NULL CHECK (author IN ('visitor', 'agent', 'system')),
    author_name     TEXT,
    body            TEXT    NOT NULL,
    event           TEXT,
    sent_at         INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, client_id)
) WITHOUT ROWID;
