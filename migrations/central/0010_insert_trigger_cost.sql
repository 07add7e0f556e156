-- 0010_insert_trigger_cost: the change log and audit of INSERTs (0008's statement triggers) at a
-- lower cost per row (issue 10's push_mutations_per_s). Forward-only; the rows they write are
-- the same, in the same order, for the same practices, and so are the NOTIFYs.
--
--   practice lookup   0008's sync_log_inserted called row_practices, a plpgsql function with a
--                     SET clause, once per new row: a settings save and restore and a nested
--                     statement each time (~1.5 ms of a 100-row notification INSERT's ~11 ms
--                     in the server). row_practice_ids is the same lookup as one SQL query
--                     that PostgreSQL inlines into the trigger's statement: the other
--                     entities' branches are pruned as one-time filters and the rest is an
--                     index scan a row.
--   no row as JSON    0008's functions are generic, so they read a row's columns through
--                     to_jsonb of the whole row (its timestamps formatted, its JSON copied),
--                     twice a row in the change log and once more, with a subquery and a sort,
--                     for the audit row's key. Each table now has its own pair of functions,
--                     made below from one text with the table's key and the columns that
--                     place its rows, which read those columns directly.
--   notification      the CHECK on notification.type, '^[a-z][a-z0-9_]{0,49}$', cost ~5 us a row:
--   type check        PostgreSQL's regex engine runs a counted repetition as that many states.
--                     The same rule as '^[a-z][a-z0-9_]*$' with the length checked apart costs
--                     a seventh of it (20,000 values: ~100 ms -> ~15 ms).
--
-- Measured on that 100-row INSERT with its idempotency records (one connection, server CPU):
-- ~10.7 ms before, ~7.2 ms after (pgbench, 300 batches, noisy machine). Updates and deletes keep their row triggers and row_practices
-- (0003, 0007) unchanged. Runs as the superuser, like 0008's trigger loop.

-- [SECTION] the practices that can see a row, as one inlinable query
-- row_practices (0003) as a set: for each entity the branch row_practices takes, the others
-- filtered out before they run. r needs only the columns that place the row (see
-- insert_placing below). LANGUAGE sql, STABLE, no SET clause and not SECURITY DEFINER, so that
-- PostgreSQL inlines it; every table is schema-qualified so the caller's search_path does not
-- matter. May return a practice twice (callers take DISTINCT).
CREATE FUNCTION row_practice_ids(entity text, r jsonb) RETURNS SETOF uuid
  LANGUAGE sql STABLE
  AS $$
    SELECT (r ->> 'practice_id')::uuid WHERE entity IN ('practice', 'provider', 'waitlist', 'staff_user')
    UNION ALL
    SELECT p.practice_id FROM public.provider p
     WHERE entity IN ('appointment_slot', 'appointment', 'appointment_request')
       AND p.provider_id = (r ->> 'provider_id')::uuid
    UNION ALL
    SELECT w.practice_id FROM public.waitlist w
     WHERE entity = 'waitlist_entry' AND w.waitlist_id = (r ->> 'waitlist_id')::uuid
    UNION ALL
    SELECT pp.practice_id FROM public.practice_patient pp
     WHERE entity = 'patient' AND pp.patient_id = (r ->> 'patient_id')::uuid
    UNION ALL
    SELECT p.practice_id FROM public.provider p
     WHERE entity = 'notification' AND r ->> 'recipient_type' = 'provider'
       AND p.provider_id = (r ->> 'recipient_id')::uuid
    UNION ALL
    SELECT pp.practice_id FROM public.practice_patient pp
     WHERE entity = 'notification' AND r ->> 'recipient_type' = 'patient'
       AND pp.patient_id = (r ->> 'recipient_id')::uuid
    UNION ALL
    -- row_practices' ELSE: any other recipient type names the practice or one of its staff.
    SELECT pr.practice_id FROM public.practice pr
     WHERE entity = 'notification' AND coalesce(r ->> 'recipient_type', '') NOT IN ('provider', 'patient')
       AND pr.practice_id = (r ->> 'recipient_id')::uuid
    UNION ALL
    SELECT s.practice_id FROM public.staff_user s
     WHERE entity = 'notification' AND coalesce(r ->> 'recipient_type', '') NOT IN ('provider', 'patient')
       AND s.staff_id = (r ->> 'recipient_id')::uuid
  $$;
-- As 0003 did for row_practices: anteroom_internal owns it (the triggers run as it, and inlining
-- needs the caller's EXECUTE right) and nobody else may execute it.
ALTER FUNCTION row_practice_ids(text, jsonb) OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION row_practice_ids(text, jsonb) FROM PUBLIC;

-- [SECTION] change log of inserts, a function per synced table
-- 0008's sync_log_inserted for one table: %1$I the function, %2$I the key column, %3$s the
-- columns row_practice_ids reads, as JSON, %4$L the table. The table is a literal, not
-- TG_TABLE_NAME: with a parameter there PostgreSQL planned the statement anew on every call
-- (its generic plan, with every entity's branch, looked dearer than a custom one). Same rows, seqs (consecutive per practice in the
-- statement's row order) and NOTIFYs; sorted by practice, so two transactions touching the same
-- practices lock their counters in one order (as sync_log_change does).
DO $do$
DECLARE
  t record;
  body CONSTANT text := $f$
CREATE FUNCTION %1$I() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $body$
DECLARE
  batch record;
  last bigint;
BEGIN
  FOR batch IN
    WITH rows AS (
      SELECT n.%2$I AS id, n.row_version AS version, CASE WHEN n.deleted THEN 'delete' ELSE 'upsert' END AS op,
             %3$s AS r, row_number() OVER () AS ord
        FROM new_rows n)
    SELECT p AS practice, count(*) AS n, array_agg(rows.id ORDER BY rows.ord) AS ids,
           array_agg(rows.op ORDER BY rows.ord) AS ops, array_agg(rows.version ORDER BY rows.ord) AS versions
      FROM rows, LATERAL (SELECT DISTINCT x AS p FROM row_practice_ids(%4$L, rows.r) x) practices
     GROUP BY p ORDER BY p
  LOOP
    INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (batch.practice, batch.n)
      ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + batch.n
      RETURNING c.last_seq INTO last;
    INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
      SELECT batch.practice, last - batch.n + e.k, %4$L, e.id, e.op, e.version
        FROM unnest(batch.ids, batch.ops, batch.versions) WITH ORDINALITY AS e(id, op, version, k);
    PERFORM pg_notify('anteroom_changes', batch.practice::text);
  END LOOP;
  RETURN NULL;
END
$body$
$f$;
BEGIN
  -- insert_placing: the columns row_practices reads for the table's rows.
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id', ARRAY['practice_id']),
      ('provider', 'provider_id', ARRAY['practice_id']), ('patient', 'patient_id', ARRAY['patient_id']),
      ('waitlist', 'waitlist_id', ARRAY['practice_id']), ('waitlist_entry', 'entry_id', ARRAY['waitlist_id']),
      ('appointment_slot', 'slot_id', ARRAY['provider_id']), ('appointment_request', 'request_id', ARRAY['provider_id']),
      ('appointment', 'appointment_id', ARRAY['provider_id']),
      ('notification', 'notification_id', ARRAY['recipient_type', 'recipient_id']),
      ('staff_user', 'staff_id', ARRAY['practice_id'])) AS v(name, pk, insert_placing)
  LOOP
    EXECUTE format(body, t.name || '_log_inserted', t.pk,
                   (SELECT 'jsonb_build_object(' || string_agg(format('%L, n.%I', c, c), ', ') || ')'
                      FROM unnest(t.insert_placing) c), t.name);
    EXECUTE format('ALTER FUNCTION %I() OWNER TO anteroom_internal', t.name || '_log_inserted');
    EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', t.name || '_log_inserted');
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_change_log_insert', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                   t.name || '_change_log_insert', t.name, t.name || '_log_inserted');
  END LOOP;
END
$do$;

-- [SECTION] audit of inserts, a function per audited table
-- 0008's audit_rows_inserted for one table: %1$I the function, %2$s the row's key as text (its
-- key columns joined with ':', as before; every key column is a uuid, whose text is the same as
-- its JSON's), %3$L the table. The practice, actor and transaction id are taken once a statement.
DO $do$
DECLARE
  t record;
  body CONSTANT text := $f$
CREATE FUNCTION %1$I() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $body$
DECLARE
  raw_actor text := current_setting('app.actor', true);
  actor text;
  practice uuid := current_practice_id();
  txid bigint := txid_current();
BEGIN
  -- The actor is free text from the hub: keep it only in the expected shape (as audit_row_change).
  actor := CASE WHEN raw_actor ~ '^[a-z_]{1,20}(:[0-9A-Za-z._-]{1,64})?$' THEN raw_actor
                WHEN coalesce(raw_actor, '') = '' THEN NULL
                ELSE 'unrecognised' END;
  INSERT INTO audit_event (db_user, practice_id, actor, table_name, row_id, operation, changed_columns, transaction_id)
    SELECT session_user, practice, actor, %3$L, %2$s, 'INSERT', NULL, txid
      FROM new_rows n;
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
    EXECUTE format(body, t.name || '_audit_inserted',
                   (SELECT 'concat_ws('':'', ' || string_agg(format('n.%I::text', btrim(c)), ', ' ORDER BY i) || ')'
                      FROM unnest(string_to_array(t.pk, ',')) WITH ORDINALITY AS k(c, i)), t.name);
    EXECUTE format('ALTER FUNCTION %I() OWNER TO anteroom_internal', t.name || '_audit_inserted');
    EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', t.name || '_audit_inserted');
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_audit_insert', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                   t.name || '_audit_insert', t.name, t.name || '_audit_inserted');
  END LOOP;
END
$do$;

-- [SECTION] notification type, the same rule without a counted repetition
ALTER TABLE notification DROP CONSTRAINT notification_type_format,
  ADD CONSTRAINT notification_type_format CHECK (type ~ '^[a-z][a-z0-9_]*$' AND char_length(type) <= 50);

-- 0008's generic functions have no trigger left; dropped so nothing can attach them again.
DROP FUNCTION sync_log_inserted();
DROP FUNCTION audit_rows_inserted();
