-- Retention and personal data (issue 14, item 6): deleting a conversation
-- deletes its `conversation_agents` rows, whose key starts with the agent:
-- without this index each deletion would scan the whole table.
CREATE INDEX conversation_agents_conversation ON conversation_agents(conversation_id);
