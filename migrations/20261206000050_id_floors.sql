-- The highest id ever given to a conversation, kept when conversations are deleted (retention,
-- a visitor's deletion): SQLite would otherwise give the newest deleted id again, and webhook
-- cursors and event ids, and whatever a receiver remembers, rely on an id naming one conversation.
CREATE TABLE id_floors (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
