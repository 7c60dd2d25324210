-- Who an agent is talking to: the latest page each visitor was seen on
-- (only the latest: a page view replaces the one before), what their
-- browser said of itself at their last connection, and their time zone.
CREATE TABLE visitor_context (
    visitor_id INTEGER PRIMARY KEY REFERENCES visitors(id),
    page_url   TEXT,
    page_title TEXT,
    page_at    INTEGER,
    referrer   TEXT,
    time_zone  TEXT,
    utc_offset INTEGER,
    browser    TEXT,
    os         TEXT,
    language   TEXT
);

-- An agent's choice to hear a sound and get a browser notification for a
-- new conversation or message (0: off, the default).
ALTER TABLE agents ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
