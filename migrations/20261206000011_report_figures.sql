-- Reports (issue 14) read figures stored once per conversation rather than
-- recomputed from its messages on every page load:
-- - first_response_ms: from the visitor's first message to the first agent
--   reply after it, set when the conversation closes (one query over that
--   conversation's messages, off the message path); NULL without a reply.
-- - offline: the conversation was opened while no agent was available (a
--   message left for later: the reports' "missed chats").
-- Resolution time needs no column: closed_at - created_at.
ALTER TABLE conversations ADD COLUMN first_response_ms INTEGER;
ALTER TABLE conversations ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_created ON conversations(created_at);

-- Conversations closed before this migration get their figure now.
UPDATE conversations SET first_response_ms = (
    SELECT MIN(a.sent_at) FROM messages a
    WHERE a.conversation_id = conversations.id AND a.author = 'agent'
      AND a.sent_at >= (SELECT MIN(v.sent_at) FROM messages v
                        WHERE v.conversation_id = conversations.id AND v.author = 'visitor')
) - (
    SELECT MIN(v.sent_at) FROM messages v
    WHERE v.conversation_id = conversations.id AND v.author = 'visitor'
)
WHERE status = 'closed';
