-- 0005_retention: configurable archive/purge of rows past an age, per table, and the archive.
-- Run by the operator's superuser (a timer calling SELECT * FROM apply_retention()); as a
-- superuser it sees every practice. Secure deletion: see migrations/central/README.md.

SET LOCAL ROLE anteroom_owner;

-- One rule per row. age_column is compared with apply_retention's as_of minus keep_for;
-- only_tombstones limits the rule to rows already deleted (tombstoned) by the application.
-- Change keep_for with UPDATE; rules are data, so tuning retention needs no migration.
CREATE TABLE retention_policy (
  policy_id       integer GENERATED ALWAYS AS IDENTITY,
  table_name      text     NOT NULL,
  age_column      text     NOT NULL,
  keep_for        interval NOT NULL,
  action          text     NOT NULL,
  only_tombstones boolean  NOT NULL DEFAULT false,
  note            text,
  CONSTRAINT retention_policy_pkey PRIMARY KEY (policy_id),
  CONSTRAINT retention_policy_rule_key UNIQUE (table_name, age_column, only_tombstones, action),
  CONSTRAINT retention_policy_table_valid CHECK (table_name IN ('practice', 'provider', 'patient', 'waitlist',
    'waitlist_entry', 'appointment_slot', 'appointment_request', 'appointment', 'notification', 'staff_user',
    'device', 'idempotency_record', 'change_log', 'audit_event', 'archived_row')),
  CONSTRAINT retention_policy_age_column_format CHECK (age_column ~ '^[a-z_]{1,63}$'),
  CONSTRAINT retention_policy_keep_for_positive CHECK (keep_for >= interval '1 day'),
  CONSTRAINT retention_policy_action_valid CHECK (action IN ('archive', 'purge')),
  -- Archiving the archive or the audit trail into itself would be a loop.
  CONSTRAINT retention_policy_archive_source CHECK (action = 'purge' OR table_name NOT IN ('archived_row', 'audit_event', 'change_log'))
);

-- Archived rows, as JSON of the whole row: patient PII inside stays ciphertext.
CREATE TABLE archived_row (
  archive_id  bigint GENERATED ALWAYS AS IDENTITY,
  table_name  text      NOT NULL,
  row_id      text      NOT NULL,
  row_data    jsonb     NOT NULL,
  archived_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT archived_row_pkey PRIMARY KEY (archive_id)
);
CREATE INDEX archived_row_lookup_idx ON archived_row (table_name, row_id);

-- Defaults. Tombstones live 90 days (devices are promised at least 30), and so does the change
-- log that points at them: a device whose cursor is older must resync. Clinical records are
-- archived, not purged, after the retention period most US states require of mental-health
-- records (7 years; check your state); the audit trail is kept 6 years (HIPAA 164.316).
INSERT INTO retention_policy (table_name, age_column, keep_for, action, only_tombstones, note) VALUES
  ('change_log',          'changed_at',  interval '90 days',  'purge',   false, 'sync feed; older cursors resync'),
  ('idempotency_record',  'created_at',  interval '90 days',  'purge',   false, 'replay protection outlives the longest offline spell'),
  ('notification',        'created_at',  interval '400 days', 'purge',   false, 'delivery records'),
  ('notification',        'updated_at',  interval '90 days',  'purge',   true,  'tombstones'),
  ('appointment_request', 'updated_at',  interval '90 days',  'purge',   true,  'tombstones'),
  ('appointment',         'updated_at',  interval '90 days',  'archive', true,  'tombstones'),
  ('appointment',         'end_time',    interval '7 years',  'archive', false, 'clinical record'),
  ('appointment_request', 'updated_at',  interval '7 years',  'archive', false, 'clinical record'),
  ('waitlist_entry',      'updated_at',  interval '90 days',  'archive', true,  'tombstones'),
  ('waitlist_entry',      'updated_at',  interval '7 years',  'archive', false, 'clinical record'),
  ('appointment_slot',    'end_time',    interval '400 days', 'purge',   false, 'past availability'),
  ('waitlist',            'updated_at',  interval '90 days',  'purge',   true,  'tombstones'),
  ('staff_user',          'updated_at',  interval '90 days',  'purge',   true,  'tombstones'),
  ('provider',            'updated_at',  interval '90 days',  'archive', true,  'tombstones'),
  ('patient',             'updated_at',  interval '90 days',  'archive', true,  'tombstones'),
  ('audit_event',         'occurred_at', interval '6 years 1 month', 'purge', false, 'HIPAA documentation retention'),
  ('archived_row',        'archived_at', interval '10 years', 'purge',   false, 'end of the archive');

-- Applies every rule, children before parents, and reports what it did. A row that something
-- still references (a slot with a request, a patient with appointments) is skipped, not forced:
-- ON DELETE RESTRICT is the guard, and the next run takes it once its children are gone.
-- High-volume logs without references (change_log, audit_event, idempotency_record,
-- archived_row) are deleted in one statement; the rest row by row.
CREATE FUNCTION apply_retention(as_of timestamp DEFAULT (now() AT TIME ZONE 'UTC'))
  RETURNS TABLE (table_name text, action text, removed bigint, skipped bigint)
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  rule record;
  pk_cols text;
  cond text;
  cutoff timestamp;
  k text;
  n bigint;
  s bigint;
BEGIN
  PERFORM set_config('anteroom.retention_run', 'on', true);
  FOR rule IN
    SELECT rp.*, array_position(ARRAY['change_log', 'idempotency_record', 'audit_event', 'archived_row',
             'notification', 'appointment_request', 'appointment', 'waitlist_entry', 'appointment_slot',
             'staff_user', 'device', 'waitlist', 'provider', 'patient', 'practice'], rp.table_name) AS ord
      FROM retention_policy rp ORDER BY ord, rp.policy_id
  LOOP
    cutoff := as_of - rule.keep_for;
    cond := format('%I < %L', rule.age_column, cutoff);
    IF rule.only_tombstones THEN
      cond := cond || ' AND deleted';
    END IF;
    IF rule.table_name IN ('change_log', 'idempotency_record', 'audit_event', 'archived_row') THEN
      EXECUTE format('DELETE FROM %I WHERE %s', rule.table_name, cond);
      GET DIAGNOSTICS n = ROW_COUNT;
      table_name := rule.table_name; action := rule.action; removed := n; skipped := 0;
      RETURN NEXT;
      CONTINUE;
    END IF;
    SELECT string_agg(format('%I', a.attname), ' || '':'' || ' ORDER BY array_position(i.indkey, a.attnum))
      INTO pk_cols
      FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = rule.table_name::regclass AND i.indisprimary;
    n := 0; s := 0;
    FOR k IN EXECUTE format('SELECT (%s)::text FROM %I WHERE %s', pk_cols, rule.table_name, cond) LOOP
      BEGIN
        IF rule.action = 'archive' THEN
          EXECUTE format('INSERT INTO archived_row (table_name, row_id, row_data) SELECT %L, %L, to_jsonb(t) FROM %I t WHERE (%s)::text = %L',
                         rule.table_name, k, rule.table_name, pk_cols, k);
        END IF;
        EXECUTE format('DELETE FROM %I WHERE (%s)::text = %L', rule.table_name, pk_cols, k);
        n := n + 1;
      EXCEPTION WHEN foreign_key_violation THEN
        s := s + 1;
      END;
    END LOOP;
    table_name := rule.table_name; action := rule.action; removed := n; skipped := s;
    RETURN NEXT;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION apply_retention(timestamp) FROM PUBLIC;

-- Superusers only (no policies): retention rules and archived clinical records.
ALTER TABLE retention_policy ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_policy FORCE ROW LEVEL SECURITY;
ALTER TABLE archived_row ENABLE ROW LEVEL SECURITY;
ALTER TABLE archived_row FORCE ROW LEVEL SECURITY;
REVOKE ALL ON retention_policy, archived_row FROM PUBLIC;
