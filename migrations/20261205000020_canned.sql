-- Canned replies (issue 13, item 4): a shortcut and a text with {visitor_name} and
-- {agent_name} placeholders. agent_id NULL: a shared reply, kept by admins; else
-- that agent's own. Shortcuts are stored lower-cased and are unique per owner
-- (shared replies count as one owner, 0).
CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER REFERENCES agents(id) ON DELETE CASCADE,
    shortcut   TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_replies_shortcut ON canned_replies(COALESCE(agent_id, 0), shortcut);
