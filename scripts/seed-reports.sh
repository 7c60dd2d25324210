#!/usr/bin/env bash
# Seeds a kefu database with closed conversations for the reports page
# (issue 14): N conversations spread evenly over the last DAYS days (UTC,
# today included), served in turn by three agents seed-ann, seed-bo and
# seed-cy (created here, with no usable password), every tenth left
# offline, every seventeenth never answered, every third rated. The
# figures follow from the row number, so a run is reproducible.
#
#   scripts/seed-reports.sh DB N DAYS
#
# Used by end2end/tests/reports.spec.ts (a month) and to time the reports
# on a year of data (docs/OPERATIONS.md, "Ratings and reports"). The
# database must exist (kefu creates and migrates it at its first start);
# kefu may be serving it meanwhile. Needs the sqlite3 command.
set -euo pipefail

db=${1:?usage: seed-reports.sh DB N DAYS}
n=${2:?usage: seed-reports.sh DB N DAYS}
days=${3:?usage: seed-reports.sh DB N DAYS}
day_ms=86400000
now_ms=$(( $(date +%s) * 1000 ))
start=$(( now_ms / day_ms * day_ms - (days - 1) * day_ms ))
step=$(( days * day_ms / n ))

sqlite3 "$db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
INSERT INTO agents (name, password_hash, created_at)
  SELECT 'seed-' || s.n, '!', 0
  FROM (SELECT 'ann' AS n UNION ALL SELECT 'bo' UNION ALL SELECT 'cy') s
  WHERE NOT EXISTS (SELECT 1 FROM agents a WHERE a.name = 'seed-' || s.n);
INSERT INTO visitors (token_hash, created_at) VALUES (randomblob(32), $start);
CREATE TEMP TABLE seed_agents AS
  SELECT id, (SELECT COUNT(*) FROM agents b WHERE b.name LIKE 'seed-%' AND b.id < a.id) AS k
  FROM agents a WHERE a.name LIKE 'seed-%';
WITH RECURSIVE i(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < $n - 1)
INSERT INTO conversations
  (visitor_id, agent_id, status, created_at, queued_at, closed_at, first_response_ms, offline)
SELECT (SELECT MAX(id) FROM visitors),
       (SELECT id FROM seed_agents WHERE k = i % 3),
       'closed',
       $start + i * $step,
       $start + i * $step,
       $start + i * $step + 300000 + (i * 7919) % 3600000,
       CASE WHEN i % 17 = 0 THEN NULL ELSE 2000 + (i * 104729) % 180000 END,
       CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END
FROM i;
INSERT INTO ratings (conversation_id, score, comment, created_at)
  SELECT c.id, 1 + (c.id * 7) % 5, '', c.closed_at FROM conversations c
  WHERE c.visitor_id = (SELECT MAX(id) FROM visitors) AND c.id % 3 = 0;
COMMIT;
SQL
