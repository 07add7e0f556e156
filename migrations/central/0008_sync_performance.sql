-- 0008_sync_performance: the same rules as before, in forms PostgreSQL plans well (issue 9's
-- benchmark targets, issue 10). Forward-only; nothing here changes who sees or may write what.
--
--   notification_practice   0006 put the policy behind notification_visible(), a SECURITY DEFINER
--                           function with a SET clause: PostgreSQL cannot inline it, so every row
--                           a query touches paid a function call with a settings save and
--                           restore (about 50 us: a 500-row pull page spent 24 ms in it, a
--                           50,000-row first sync 2.5 s). The policy is now written out, so its
--                           EXISTS tests become hashed subplans (the practice's providers or
--                           linked patients read once per query); only the staff ids, which the
--                           reporting role may not read from staff_user, come from a SECURITY
--                           DEFINER function, once per query.
--   inserts: change log     an INSERT's change-log rows, counter bumps and NOTIFYs are written
--   and audit per           once per statement (AFTER INSERT ... FOR EACH STATEMENT with a
--   statement               transition table) instead of by four nested statements per row: a
--                           multi-row INSERT of n rows takes each practice's counter once, bumped
--                           by its count, and its seqs are consecutive in the statement's row
--                           order, so seq order is still commit order per practice (the counter
--                           row stays locked to the commit). Its audit rows (ids and INSERT, never
--                           values) are one INSERT ... SELECT. Updates and deletes keep 0003/0007's
--                           row triggers ('leave', unchanged replays, purges). Measured on 2,000
--                           notification inserts in one statement: 768 ms -> see the commit.

SET LOCAL ROLE anteroom_owner;

-- [SECTION] notification visibility, index-friendly
-- The ids of the working practice's staff, and nothing else: what the notification policy needs
-- from staff_user (PIN hashes stay unreadable to reporting). Empty with no practice set.
CREATE FUNCTION practice_staff_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT s.staff_id FROM staff_user s WHERE s.practice_id = current_practice_id()
  $$;

-- The rule of 0004/0006, unchanged: a provider's notification is seen by the provider's
-- practice, a patient's by every practice linked to the patient, anything else by the practice
-- it names or the practice of the staff member it names.
DROP POLICY notification_practice ON notification;
CREATE POLICY notification_practice ON notification
  USING (CASE recipient_type
           WHEN 'provider' THEN EXISTS (SELECT 1 FROM provider p
                                        WHERE p.provider_id = notification.recipient_id
                                          AND p.practice_id = current_practice_id())
           WHEN 'patient' THEN EXISTS (SELECT 1 FROM practice_patient pp
                                       WHERE pp.patient_id = notification.recipient_id
                                         AND pp.practice_id = current_practice_id())
           ELSE notification.recipient_id = current_practice_id()
                OR notification.recipient_id IN (SELECT practice_staff_ids())
         END);

-- [SECTION] change log and audit of inserts, once per statement
-- The change-log rows of a statement's new rows (TG_ARGV[0]: the primary key column), in the
-- statement's row order, for every practice that can see each row: the same rows
-- sync_log_change wrote one at a time.
CREATE FUNCTION sync_log_inserted() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  batch record;
  last bigint;
BEGIN
  -- Sorted by practice, so two transactions touching the same practices lock their counters in
  -- one order (as sync_log_change does).
  FOR batch IN
    WITH rows AS (
      SELECT (to_jsonb(n) ->> TG_ARGV[0])::uuid AS id, n.row_version AS version,
             CASE WHEN n.deleted THEN 'delete' ELSE 'upsert' END AS op, to_jsonb(n) AS r,
             row_number() OVER () AS ord
        FROM new_rows n)
    SELECT p AS practice, count(*) AS n, array_agg(rows.id ORDER BY rows.ord) AS ids,
           array_agg(rows.op ORDER BY rows.ord) AS ops, array_agg(rows.version ORDER BY rows.ord) AS versions
      FROM rows, LATERAL (SELECT DISTINCT x AS p FROM unnest(row_practices(TG_TABLE_NAME, rows.r)) x) practices
     GROUP BY p ORDER BY p
  LOOP
    INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (batch.practice, batch.n)
      ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + batch.n
      RETURNING c.last_seq INTO last;
    INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
      SELECT batch.practice, last - batch.n + e.k, TG_TABLE_NAME, e.id, e.op, e.version
        FROM unnest(batch.ids, batch.ops, batch.versions) WITH ORDINALITY AS e(id, op, version, k);
    PERFORM pg_notify('anteroom_changes', batch.practice::text);
  END LOOP;
  RETURN NULL;
END
$$;

-- audit_row_change's INSERT rows for a whole statement (TG_ARGV: the primary key columns).
CREATE FUNCTION audit_rows_inserted() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  raw_actor text := current_setting('app.actor', true);
  actor text;
BEGIN
  -- The actor is free text from the hub: keep it only in the expected shape (as audit_row_change).
  actor := CASE WHEN raw_actor ~ '^[a-z_]{1,20}(:[0-9A-Za-z._-]{1,64})?$' THEN raw_actor
                WHEN coalesce(raw_actor, '') = '' THEN NULL
                ELSE 'unrecognised' END;
  INSERT INTO audit_event (db_user, practice_id, actor, table_name, row_id, operation, changed_columns, transaction_id)
    SELECT session_user, current_practice_id(), actor, TG_TABLE_NAME,
           (SELECT string_agg(to_jsonb(n) ->> a.k, ':' ORDER BY a.i) FROM unnest(TG_ARGV) WITH ORDINALITY AS a(k, i)),
           'INSERT', NULL, txid_current()
      FROM new_rows n;
  RETURN NULL;
END
$$;

RESET ROLE;
ALTER FUNCTION sync_log_inserted() OWNER TO anteroom_internal;
ALTER FUNCTION audit_rows_inserted() OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION sync_log_inserted(), audit_rows_inserted() FROM PUBLIC;

-- As the superuser: the row functions of 0003/0004 belong to anteroom_internal and nobody else
-- may execute them (the triggers run them as their owner).
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id'), ('provider', 'provider_id'), ('patient', 'patient_id'),
      ('waitlist', 'waitlist_id'), ('waitlist_entry', 'entry_id'), ('appointment_slot', 'slot_id'),
      ('appointment_request', 'request_id'), ('appointment', 'appointment_id'),
      ('notification', 'notification_id'), ('staff_user', 'staff_id')) AS v(name, pk)
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_change_log', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION sync_log_change(%L)',
                   t.name || '_change_log', t.name, t.pk);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION sync_log_inserted(%L)',
                   t.name || '_change_log_insert', t.name, t.pk);
  END LOOP;
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id'), ('provider', 'provider_id'), ('patient', 'patient_id'),
      ('practice_patient', 'practice_id, patient_id'), ('waitlist', 'waitlist_id'), ('waitlist_entry', 'entry_id'),
      ('appointment_slot', 'slot_id'), ('appointment_request', 'request_id'), ('appointment', 'appointment_id'),
      ('notification', 'notification_id'), ('staff_user', 'staff_id'), ('device', 'device_id'))
      AS v(name, pk)
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %I', t.name || '_audit', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION audit_row_change(%s)',
                   t.name || '_audit', t.name,
                   (SELECT string_agg(quote_literal(btrim(c)), ', ') FROM unnest(string_to_array(t.pk, ',')) c));
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION audit_rows_inserted(%s)',
                   t.name || '_audit_insert', t.name,
                   (SELECT string_agg(quote_literal(btrim(c)), ', ') FROM unnest(string_to_array(t.pk, ',')) c));
  END LOOP;
END
$$;

ALTER FUNCTION practice_staff_ids() OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION practice_staff_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION practice_staff_ids() TO anteroom_owner, anteroom_hub, anteroom_reporting;
