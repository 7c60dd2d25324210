-- Sessions end after a period without use, as well as at their absolute expiry.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_agent ON sessions(agent_id);
