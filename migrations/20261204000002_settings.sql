-- What admins set in the console (the widget's look and words, the sites
-- that may embed it): one JSON document per key, read at start and on save.
CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
