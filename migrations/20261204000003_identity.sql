-- Identity verification (issue 12, item 5): visitors known by the site's user id,
-- their labels, several devices' tokens each, and the secret sites sign with.

-- The site's user id of a verified visitor (NULL: anonymous). SQLite cannot add a
-- UNIQUE column, so uniqueness is a partial index. A verified visitor's own
-- `token_hash` (NOT NULL since the first schema) is the hash of a random token that
-- is never issued: their tokens live in `visitor_tokens`, so `visitors.token_hash`
-- only ever finds anonymous visitors.
ALTER TABLE visitors ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX visitors_external ON visitors(external_id) WHERE external_id IS NOT NULL;

-- What labels the visitor for agents: signed (verified = 1, set from the identity
-- token) or told by the visitor (verified = 0, from a `profile` frame).
ALTER TABLE visitors ADD COLUMN name TEXT;
ALTER TABLE visitors ADD COLUMN email TEXT;
ALTER TABLE visitors ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;

-- Tokens of verified visitors: one per device or browser that identified with a
-- valid signature, so that several can hold a valid token at once. Only hashes.
CREATE TABLE visitor_tokens (
    token_hash BLOB    PRIMARY KEY,
    visitor_id INTEGER NOT NULL REFERENCES visitors(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX visitor_tokens_visitor ON visitor_tokens(visitor_id, created_at);

-- The HMAC-SHA256 keys sites sign identities with. Kept in clear: admins are shown
-- the current one. Rotation marks the current one retired (tokens signed with it
-- are refused as `identity_retired`) and adds a new one. At most one is current.
CREATE TABLE identity_secrets (
    id         INTEGER PRIMARY KEY,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
CREATE UNIQUE INDEX identity_secrets_current ON identity_secrets((retired_at IS NULL))
    WHERE retired_at IS NULL;
