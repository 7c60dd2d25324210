-- An agent's chosen status: away agents get no new conversations but keep
-- serving the ones they have. Kept across sign-ins and restarts.
ALTER TABLE agents ADD COLUMN away INTEGER NOT NULL DEFAULT 0;
