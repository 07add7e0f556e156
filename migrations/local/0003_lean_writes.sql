-- 0003_lean_writes: fewer pages written, and so encrypted, per commit. The device never looks
-- up notifications by status or audit rows by record (the hub and auditors do that centrally,
-- where those indexes exist), and device state is keyed by its text key, so it needs no
-- separate rowid b-tree. A check-in commit writes three fewer pages.
DROP INDEX notification_status_idx;
DROP INDEX audit_log_entity_idx;

CREATE TABLE sync_state_new (
  key        TEXT PRIMARY KEY NOT NULL,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO sync_state_new (key, value, updated_at) SELECT key, value, updated_at FROM sync_state;
DROP TABLE sync_state;
ALTER TABLE sync_state_new RENAME TO sync_state;
