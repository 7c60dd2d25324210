-- How far the visitor has read each conversation (a seq, as agent_read_seq
-- is for the agent): the agent sees which replies were seen, and the widget
-- counts unread replies from it after a reload.
ALTER TABLE conversations ADD COLUMN visitor_read_seq INTEGER NOT NULL DEFAULT 0;
