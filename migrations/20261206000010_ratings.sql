-- A visitor's rating of a closed conversation (issue 14): once per conversation, 1–5, with an
-- optional comment. Kept apart from `messages` so that ratings never take a seq.
CREATE TABLE ratings (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL -- unix milliseconds, like every *_at column
);
CREATE INDEX ratings_created ON ratings(created_at);
