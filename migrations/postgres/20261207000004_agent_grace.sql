-- Grace periods across nodes (--redis): an agent offline on every node
-- keeps their conversations until this deadline; any live node that sees
-- it pass requeues them. A row per agent in grace, removed when they are
-- back or requeued.
CREATE TABLE agent_grace (
    agent_id    BIGINT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
    deadline_ms BIGINT NOT NULL
);
