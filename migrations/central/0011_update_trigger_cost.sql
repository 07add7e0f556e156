-- 0011_update_trigger_cost: the change log and audit of UPDATEs and DELETEs (the row triggers of
-- 0003, 0004 and 0007) at a lower cost per row, as 0010 did for INSERTs (issue 10's
-- push_checkins_per_s: a check-in is one appointment UPDATE). Forward-only; the rows they write
-- are the same, in the same order, for the same practices, and so are the NOTIFYs.
--
--   practice lookup   sync_log_change called row_practices, a plpgsql function with a SET clause,
--                     and then sync_append_change, another, once per practice: a settings save
--                     and restore and nested statements each time. The functions below take
--                     the practices from row_practice_ids (0010, inlined) in one query and bump
--                     the counter, append the change and NOTIFY in the loop itself, as 0010's
--                     insert functions do.
--   no row as JSON    sync_log_change and audit_row_change are generic, so they read a row
--                     through to_jsonb of the whole row (OLD and NEW each, its timestamps
--                     formatted, its JSON copied) and found the changed columns with
--                     jsonb_each. Each table now has its own pair of functions, made below from
--                     one text each, which read the key and placing columns directly and
--                     compare each column of NEW with OLD's, in column-name order (the order
--                     jsonb_each's keys were sorted in).
--
-- Measured with anteroom-bench-sync-net --push-only (push_checkins_per_s, 25,600 check-ins, three
-- runs each, alternated, noisy machine): PostgreSQL CPU per check-in 2.62 / 2.47 / 2.10 ms before,
-- 2.35 / 2.00 / 1.94 ms after; 542 / 446 / 836 check-ins/s before, 744 / 720 / 900 after. Most of
-- a check-in's server time is elsewhere (the hub's statements, planned per execution, and the
-- arrival notice's own INSERT).
--
-- The audit functions list the table's columns as they are when this file runs: a migration
-- that adds a column to one of these tables makes that table's function again (the central test
-- "0011: the audit functions compare every column" fails until it does). audit_row_change stays
-- for id_alias and the walk-in review tables (0007), row_practices for practice_patient_log.
-- Runs as the superuser, like 0008's and 0010's trigger loops.

-- [SECTION] change log of updates and deletes, a function per synced table
-- sync_log_change (0007) for one table: %1$I the function, %2$I the key column, %3$s the
-- columns row_practice_ids reads (0010's insert_placing) as JSON from NEW, %4$s the same from
-- OLD, %5$s when an UPDATE can move the row out of a practice's sight (its placing column
-- changed; never for practice and patient, as before), %6$L the table. An unchanged replay
-- (same row_version) logs nothing; a practice that saw the old row and not the new one gets a
-- 'leave'; practices in id order, so two transactions lock their counters in one order.
DO $do$
DECLARE
  t record;
  body CONSTANT text := $f$
CREATE FUNCTION %1$I() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $body$
DECLARE
  id uuid;
  version bigint;
  op text;
  placed jsonb;
  moved boolean := false;
  change record;
  next_seq bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN
    id := OLD.%2$I;
    version := OLD.row_version;
    op := 'purge';
    placed := %4$s;
  ELSE
    IF NEW.row_version = OLD.row_version THEN
      RETURN NULL;  -- nothing changed (see sync_row_maintain)
    END IF;
    id := NEW.%2$I;
    version := NEW.row_version;
    op := CASE WHEN NEW.deleted THEN 'delete' ELSE 'upsert' END;
    placed := %3$s;
    moved := %5$s;
  END IF;
  FOR change IN
    SELECT s.practice, bool_or(s.sees) AS sees
      FROM (SELECT x AS practice, true AS sees FROM row_practice_ids(%6$L, placed) x
            UNION ALL
            SELECT x, false FROM row_practice_ids(%6$L, %4$s) x WHERE moved) s
     GROUP BY s.practice ORDER BY s.practice
  LOOP
    INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (change.practice, 1)
      ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + 1
      RETURNING c.last_seq INTO next_seq;
    INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
      VALUES (change.practice, next_seq, %6$L, id, CASE WHEN change.sees THEN op ELSE 'leave' END, version);
    PERFORM pg_notify('anteroom_changes', change.practice::text);
  END LOOP;
  RETURN NULL;
END
$body$
$f$;
BEGIN
  -- placed_by: the columns row_practices reads for the table's rows (0010); moved_by: the ones whose
  -- change can move a row between practices (0007's sync_log_change).
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id', ARRAY['practice_id'], ARRAY[]::text[]),
      ('provider', 'provider_id', ARRAY['practice_id'], ARRAY['practice_id']),
      ('patient', 'patient_id', ARRAY['patient_id'], ARRAY[]::text[]),
      ('waitlist', 'waitlist_id', ARRAY['practice_id'], ARRAY['practice_id']),
      ('waitlist_entry', 'entry_id', ARRAY['waitlist_id'], ARRAY['waitlist_id']),
      ('appointment_slot', 'slot_id', ARRAY['provider_id'], ARRAY['provider_id']),
      ('appointment_request', 'request_id', ARRAY['provider_id'], ARRAY['provider_id']),
      ('appointment', 'appointment_id', ARRAY['provider_id'], ARRAY['provider_id']),
      ('notification', 'notification_id', ARRAY['recipient_type', 'recipient_id'], ARRAY['recipient_type', 'recipient_id']),
      ('staff_user', 'staff_id', ARRAY['practice_id'], ARRAY['practice_id'])) AS v(name, pk, placed_by, moved_by)
  LOOP
    EXECUTE format(body, t.name || '_log_changed', t.pk,
                   (SELECT 'jsonb_build_object(' || string_agg(format('%L, NEW.%I', c, c), ', ') || ')' FROM unnest(t.placed_by) c),
                   (SELECT 'jsonb_build_object(' || string_agg(format('%L, OLD.%I', c, c), ', ') || ')' FROM unnest(t.placed_by) c),
                   coalesce((SELECT string_agg(format('NEW.%1$I IS DISTINCT FROM OLD.%1$I', c), ' OR ') FROM unnest(t.moved_by) c),
                            'false'),
                   t.name);
    EXECUTE format('ALTER FUNCTION %I() OWNER TO anteroom_internal', t.name || '_log_changed');
    EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', t.name || '_log_changed');
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_change_log', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION %I()',
                   t.name || '_change_log', t.name, t.name || '_log_changed');
  END LOOP;
END
$do$;

-- [SECTION] audit of updates and deletes, a function per audited table
-- audit_row_change (0004) for one table's UPDATEs and DELETEs: %1$I the function, %2$s the changed
-- columns' names as a text[] (each column of NEW compared with OLD's, in name order; the
-- bookkeeping columns updated_at, row_version and last_seen_at left out, as before), %3$s the
-- row's key as text from NEW, %4$s from OLD (key columns joined with ':'; every key column is a
-- uuid, whose text is its JSON's), %5$L the table. An UPDATE that changed only bookkeeping
-- (a replay, a device's last_seen_at) is not audited.
DO $do$
DECLARE
  t record;
  body CONSTANT text := $f$
CREATE FUNCTION %1$I() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $body$
DECLARE
  cols text[];
  row_key text;
  raw_actor text := current_setting('app.actor', true);
BEGIN
  IF TG_OP = 'UPDATE' THEN
    cols := array_remove(%2$s, NULL);
    IF cardinality(cols) = 0 THEN
      RETURN NULL;  -- bookkeeping only
    END IF;
    row_key := %3$s;
  ELSE
    row_key := %4$s;
  END IF;
  INSERT INTO audit_event (db_user, practice_id, actor, table_name, row_id, operation, changed_columns, transaction_id)
  VALUES (session_user, current_practice_id(),
          -- The actor is free text from the hub: keep it only in the expected shape (as audit_row_change).
          CASE WHEN raw_actor ~ '^[a-z_]{1,20}(:[0-9A-Za-z._-]{1,64})?$' THEN raw_actor
               WHEN coalesce(raw_actor, '') = '' THEN NULL
               ELSE 'unrecognised' END,
          %5$L, row_key, TG_OP, cols, txid_current());
  RETURN NULL;
END
$body$
$f$;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id'), ('provider', 'provider_id'), ('patient', 'patient_id'),
      ('practice_patient', 'practice_id, patient_id'), ('waitlist', 'waitlist_id'), ('waitlist_entry', 'entry_id'),
      ('appointment_slot', 'slot_id'), ('appointment_request', 'request_id'), ('appointment', 'appointment_id'),
      ('notification', 'notification_id'), ('staff_user', 'staff_id'), ('device', 'device_id'))
      AS v(name, pk)
  LOOP
    EXECUTE format(body, t.name || '_audit_changed',
                   (SELECT 'ARRAY[' || string_agg(format('CASE WHEN NEW.%1$I IS DISTINCT FROM OLD.%1$I THEN %1$L END', a.attname),
                                                  ', ' ORDER BY a.attname::text) || ']::text[]'
                      FROM pg_attribute a
                     WHERE a.attrelid = t.name::regclass AND a.attnum > 0 AND NOT a.attisdropped
                       AND a.attname NOT IN ('updated_at', 'row_version', 'last_seen_at')),
                   (SELECT 'concat_ws('':'', ' || string_agg(format('NEW.%I::text', btrim(c)), ', ' ORDER BY i) || ')'
                      FROM unnest(string_to_array(t.pk, ',')) WITH ORDINALITY AS k(c, i)),
                   (SELECT 'concat_ws('':'', ' || string_agg(format('OLD.%I::text', btrim(c)), ', ' ORDER BY i) || ')'
                      FROM unnest(string_to_array(t.pk, ',')) WITH ORDINALITY AS k(c, i)),
                   t.name);
    EXECUTE format('ALTER FUNCTION %I() OWNER TO anteroom_internal', t.name || '_audit_changed');
    EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', t.name || '_audit_changed');
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_audit', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION %I()',
                   t.name || '_audit', t.name, t.name || '_audit_changed');
  END LOOP;
END
$do$;

-- sync_log_change has no trigger left; dropped so nothing can attach it again.
DROP FUNCTION sync_log_change();
