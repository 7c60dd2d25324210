-- Closed conversations and search (issue 13, item 8).

-- Every agent who has served a conversation (agents see those; admins see all).
-- Filled on each assignment; the backfill takes the current or last agent of each
-- conversation and every agent who wrote in one.
CREATE TABLE conversation_agents (
    agent_id        INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    PRIMARY KEY (agent_id, conversation_id)
);
INSERT OR IGNORE INTO conversation_agents (agent_id, conversation_id)
    SELECT agent_id, id FROM conversations WHERE agent_id IS NOT NULL;
INSERT OR IGNORE INTO conversation_agents (agent_id, conversation_id)
    SELECT DISTINCT a.id, m.conversation_id
    FROM messages m JOIN agents a ON a.name = m.author_name
    WHERE m.author = 'agent';

-- Closed conversations, newest closed first (keyset paging).
CREATE INDEX conversations_closed ON conversations(closed_at, id) WHERE status = 'closed';

-- Full-text index of what people wrote (never system notices), with the trigram
-- tokenizer, which finds Chinese (no spaces between words) as well as English.
-- Contentless: the text stays only in `messages`; each row's rowid is
-- conversation_id * 2^32 + seq (messages has no rowid of its own).
CREATE VIRTUAL TABLE message_text USING fts5(body, content = '', tokenize = 'trigram');
-- Filled off the message hot path, in batches, by the indexer
-- (src/server/storage/sqlite/indexer.rs): each conversation's messages are
-- indexed up to indexed_seq. Existing messages are indexed here.
ALTER TABLE conversations ADD COLUMN indexed_seq INTEGER NOT NULL DEFAULT 0;
INSERT INTO message_text (rowid, body)
    SELECT conversation_id * 4294967296 + seq, body FROM messages
    WHERE author IN ('visitor', 'agent');
UPDATE conversations SET indexed_seq = last_seq;
