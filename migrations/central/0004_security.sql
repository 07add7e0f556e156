-- 0004_security: least-privilege grants, row-level security scoped by app.practice_id, the
-- practice-patient links that scope patients, and the audit_event trail.
--
-- Every table has row-level security ENABLED and FORCED, so the owner is confined too; only a
-- superuser (the operator running migrations and retention) bypasses it. A session works for one
-- practice per transaction: the hub runs
--     SELECT set_config('app.practice_id', $1, true)
-- first in each transaction. Unset, every policy compares with NULL and sees no rows.

SET LOCAL ROLE anteroom_owner;

-- [SECTION] practice-patient links
-- A practice sees a patient only through a link, made here when the practice registers the
-- patient or records a waitlist entry, appointment or request for them. Knowing a patient's id
-- (a random UUID) is what lets a second practice link to an existing patient, which is how a
-- walk-in known elsewhere is joined (DESIGN.md section 5). Runs as anteroom_internal.
CREATE FUNCTION link_patient_to_practice(practice uuid, patient uuid) RETURNS void
  LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    INSERT INTO practice_patient (practice_id, patient_id) VALUES (practice, patient)
      ON CONFLICT (practice_id, patient_id) DO NOTHING
  $$;

CREATE FUNCTION link_patient_on_write() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  practice uuid;
BEGIN
  CASE TG_TABLE_NAME
    WHEN 'patient' THEN
      practice := current_practice_id();
    WHEN 'waitlist_entry' THEN
      SELECT w.practice_id INTO practice FROM waitlist w WHERE w.waitlist_id = NEW.waitlist_id;
    ELSE  -- appointment, appointment_request
      SELECT p.practice_id INTO practice FROM provider p WHERE p.provider_id = NEW.provider_id;
  END CASE;
  IF practice IS NOT NULL THEN
    PERFORM link_patient_to_practice(practice, NEW.patient_id);
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER patient_link BEFORE INSERT ON patient FOR EACH ROW EXECUTE FUNCTION link_patient_on_write();
CREATE TRIGGER waitlist_entry_link BEFORE INSERT OR UPDATE OF patient_id, waitlist_id ON waitlist_entry
  FOR EACH ROW EXECUTE FUNCTION link_patient_on_write();
CREATE TRIGGER appointment_link BEFORE INSERT OR UPDATE OF patient_id, provider_id ON appointment
  FOR EACH ROW EXECUTE FUNCTION link_patient_on_write();
CREATE TRIGGER appointment_request_link BEFORE INSERT OR UPDATE OF patient_id, provider_id ON appointment_request
  FOR EACH ROW EXECUTE FUNCTION link_patient_on_write();

-- A new link sends the (already existing) patient row to the newly linked practice's devices.
-- For a brand-new patient the row does not exist yet here; its own change-log trigger covers it.
CREATE FUNCTION practice_patient_log() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  version bigint;
  next_seq bigint;
BEGIN
  SELECT p.row_version INTO version FROM patient p WHERE p.patient_id = NEW.patient_id;
  IF version IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (NEW.practice_id, 1)
    ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + 1
    RETURNING c.last_seq INTO next_seq;
  INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
    VALUES (NEW.practice_id, next_seq, 'patient', NEW.patient_id, 'upsert', version);
  RETURN NULL;
END
$$;
CREATE TRIGGER practice_patient_change_log AFTER INSERT ON practice_patient
  FOR EACH ROW EXECUTE FUNCTION practice_patient_log();

-- A request names its slot and its provider: they must agree, or the request would be shown to
-- one practice for another's slot.
CREATE FUNCTION appointment_request_slot_matches() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM appointment_slot s
                 WHERE s.slot_id = NEW.appointment_slot_id AND s.provider_id = NEW.provider_id) THEN
    RAISE EXCEPTION 'row of relation "appointment_request" violates check constraint "appointment_request_slot_provider_match": the requested slot belongs to another provider'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'appointment_request_slot_provider_match',
            TABLE = 'appointment_request';
  END IF;
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER appointment_request_slot_provider_match
  AFTER INSERT OR UPDATE OF appointment_slot_id, provider_id ON appointment_request
  FOR EACH ROW EXECUTE FUNCTION appointment_request_slot_matches();

-- [SECTION] audit_event
-- Who changed which row, when and how: ids, operation and the names of changed columns, never
-- values (PHI would otherwise be copied into the audit trail). Reads are audited by pgaudit
-- (pgaudit.log includes 'read', see 0001). Append-only: see audit_event_append_only.
CREATE TABLE audit_event (
  event_id        bigint GENERATED ALWAYS AS IDENTITY,
  occurred_at     timestamp   NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'),
  db_user         text        NOT NULL,  -- the login (session_user)
  practice_id     uuid,                  -- app.practice_id of the session, if set
  actor           text,                  -- app.actor set by the hub: 'device:<id>' or 'staff:<id>'
  table_name      text        NOT NULL,
  row_id          text        NOT NULL,  -- primary key value(s), joined with ':'
  operation       varchar(10) NOT NULL,
  changed_columns text[],                -- UPDATE only: names of the changed columns
  transaction_id  bigint      NOT NULL,
  CONSTRAINT audit_event_pkey PRIMARY KEY (event_id),
  CONSTRAINT audit_event_operation_valid CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX audit_event_row_idx ON audit_event (table_name, row_id);
CREATE INDEX audit_event_occurred_at_idx ON audit_event (occurred_at);

-- TG_ARGV holds the primary key column names.
CREATE FUNCTION audit_row_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  o jsonb;
  n jsonb;
  cols text[];
  row_key text;
  raw_actor text := current_setting('app.actor', true);
BEGIN
  IF TG_OP <> 'INSERT' THEN o := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN n := to_jsonb(NEW); END IF;
  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(e.key ORDER BY e.key) INTO cols
      FROM jsonb_each(n) e
     WHERE e.value IS DISTINCT FROM o -> e.key
       AND e.key NOT IN ('updated_at', 'row_version', 'last_seen_at');
    IF cols IS NULL THEN
      RETURN NULL;  -- bookkeeping only (a replay, or a device's last_seen_at)
    END IF;
  END IF;
  SELECT string_agg(coalesce(n, o) ->> k, ':' ORDER BY i) INTO row_key
    FROM unnest(TG_ARGV) WITH ORDINALITY AS a(k, i);
  INSERT INTO audit_event (db_user, practice_id, actor, table_name, row_id, operation, changed_columns, transaction_id)
  VALUES (session_user, current_practice_id(),
          -- The actor is free text from the hub: keep it only in the expected shape, so a bug
          -- there cannot put a name or an email into the audit trail.
          CASE WHEN raw_actor ~ '^[a-z_]{1,20}(:[0-9A-Za-z._-]{1,64})?$' THEN raw_actor
               WHEN coalesce(raw_actor, '') = '' THEN NULL
               ELSE 'unrecognised' END,
          TG_TABLE_NAME, row_key, TG_OP, cols, txid_current());
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id'), ('provider', 'provider_id'), ('patient', 'patient_id'),
      ('practice_patient', 'practice_id, patient_id'), ('waitlist', 'waitlist_id'), ('waitlist_entry', 'entry_id'),
      ('appointment_slot', 'slot_id'), ('appointment_request', 'request_id'), ('appointment', 'appointment_id'),
      ('notification', 'notification_id'), ('staff_user', 'staff_id'), ('device', 'device_id'))
      AS v(name, pk)
  LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION audit_row_change(%s)',
                   t.name || '_audit', t.name,
                   (SELECT string_agg(quote_literal(btrim(c)), ', ') FROM unnest(string_to_array(t.pk, ',')) c));
  END LOOP;
END
$$;

-- The audit trail is append-only. Only the retention function may delete old events; it says
-- so with a transaction-local flag that nobody else has a reason (or the DELETE grant) to set.
CREATE FUNCTION audit_event_append_only() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('anteroom.retention_run', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only'
    USING ERRCODE = 'insufficient_privilege', TABLE = 'audit_event';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- [SECTION] device lookup
-- The hub authenticates a device before it knows the practice, when row-level security would
-- show it nothing; this returns exactly one device's identity and nothing else.
CREATE FUNCTION device_for_fingerprint(fingerprint text)
  RETURNS TABLE (device_id uuid, practice_id uuid, revoked boolean)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT d.device_id, d.practice_id, d.revoked_at IS NOT NULL
      FROM device d WHERE d.cert_fingerprint = lower(fingerprint)
  $$;

-- [SECTION] row-level security
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['practice', 'provider', 'patient', 'practice_patient', 'waitlist', 'waitlist_entry',
      'appointment_slot', 'appointment_request', 'appointment', 'notification', 'staff_user', 'device',
      'idempotency_record', 'practice_change_counter', 'change_log', 'audit_event']
  LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
  END LOOP;
  -- Tables that carry their practice: one policy for every role and command.
  FOREACH t IN ARRAY ARRAY['practice', 'provider', 'practice_patient', 'waitlist', 'staff_user', 'device',
      'idempotency_record', 'change_log']
  LOOP
    EXECUTE format('CREATE POLICY %I ON %I USING (practice_id = current_practice_id())', t || '_practice', t);
  END LOOP;
END
$$;

CREATE POLICY patient_practice ON patient
  USING (EXISTS (SELECT 1 FROM practice_patient pp
                 WHERE pp.patient_id = patient.patient_id AND pp.practice_id = current_practice_id()));
-- Registering a new patient: the link is made by patient_link, in the same statement, so the
-- new row only has to be written by a session that works for a practice. (The link is not yet
-- visible to this check, which sees the statement's starting snapshot.)
CREATE POLICY patient_register ON patient AS PERMISSIVE FOR INSERT
  WITH CHECK (current_practice_id() IS NOT NULL);

CREATE POLICY waitlist_entry_practice ON waitlist_entry
  USING (EXISTS (SELECT 1 FROM waitlist w
                 WHERE w.waitlist_id = waitlist_entry.waitlist_id AND w.practice_id = current_practice_id()));
CREATE POLICY appointment_slot_practice ON appointment_slot
  USING (EXISTS (SELECT 1 FROM provider p
                 WHERE p.provider_id = appointment_slot.provider_id AND p.practice_id = current_practice_id()));
CREATE POLICY appointment_request_practice ON appointment_request
  USING (EXISTS (SELECT 1 FROM provider p
                 WHERE p.provider_id = appointment_request.provider_id AND p.practice_id = current_practice_id()));
CREATE POLICY appointment_practice ON appointment
  USING (EXISTS (SELECT 1 FROM provider p
                 WHERE p.provider_id = appointment.provider_id AND p.practice_id = current_practice_id()));
CREATE POLICY notification_practice ON notification
  USING (CASE recipient_type
           WHEN 'provider' THEN EXISTS (SELECT 1 FROM provider p
                                        WHERE p.provider_id = notification.recipient_id
                                          AND p.practice_id = current_practice_id())
           WHEN 'patient' THEN EXISTS (SELECT 1 FROM practice_patient pp
                                       WHERE pp.patient_id = notification.recipient_id
                                         AND pp.practice_id = current_practice_id())
           ELSE notification.recipient_id = current_practice_id()
                OR EXISTS (SELECT 1 FROM staff_user s
                           WHERE s.staff_id = notification.recipient_id AND s.practice_id = current_practice_id())
         END);

-- The auditor reads the whole trail (audits span practices); nobody else has a policy on it.
CREATE POLICY audit_event_auditor ON audit_event FOR SELECT TO anteroom_auditor USING (true);

-- anteroom_internal runs only the SECURITY DEFINER functions above and in 0003; these policies
-- are what those functions need across practices, and no more.
CREATE POLICY internal_read ON provider FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON waitlist FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON practice FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON staff_user FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON patient FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON appointment_slot FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON device FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_read ON practice_patient FOR SELECT TO anteroom_internal USING (true);
CREATE POLICY internal_link ON practice_patient FOR INSERT TO anteroom_internal WITH CHECK (true);
CREATE POLICY internal_counter ON practice_change_counter TO anteroom_internal USING (true) WITH CHECK (true);
CREATE POLICY internal_append ON change_log FOR INSERT TO anteroom_internal WITH CHECK (true);
CREATE POLICY internal_append ON audit_event FOR INSERT TO anteroom_internal WITH CHECK (true);

-- [SECTION] grants
-- Only our own functions: the extensions' functions keep their defaults.
REVOKE ALL ON FUNCTION link_patient_to_practice(uuid, uuid), link_patient_on_write(), practice_patient_log(),
  appointment_request_slot_matches(), audit_row_change(), audit_event_append_only(), device_for_fingerprint(text)
  FROM PUBLIC;

-- The hub never hard-deletes: deletes are tombstones (UPDATE ... SET deleted = true).
GRANT SELECT, INSERT, UPDATE ON practice, provider, patient, waitlist, waitlist_entry, appointment_slot,
  appointment_request, appointment, notification, staff_user, device TO anteroom_hub;
GRANT SELECT, INSERT ON practice_patient, idempotency_record TO anteroom_hub;
GRANT SELECT ON change_log TO anteroom_hub;

GRANT SELECT ON practice, provider, patient, practice_patient, waitlist, waitlist_entry, appointment_slot,
  appointment_request, appointment, notification TO anteroom_reporting;

GRANT SELECT ON audit_event TO anteroom_auditor;

GRANT SELECT ON provider, waitlist, practice, staff_user, patient, appointment_slot, device, practice_patient
  TO anteroom_internal;
GRANT INSERT ON practice_patient, change_log, audit_event TO anteroom_internal;
GRANT SELECT, INSERT, UPDATE ON practice_change_counter TO anteroom_internal;

GRANT EXECUTE ON FUNCTION current_practice_id(), pii_encrypt(text, text), pii_decrypt(bytea, text),
  pii_lookup_hash(text, text) TO anteroom_hub, anteroom_reporting, anteroom_internal;
GRANT EXECUTE ON FUNCTION device_for_fingerprint(text) TO anteroom_hub;

RESET ROLE;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
ALTER FUNCTION link_patient_to_practice(uuid, uuid) OWNER TO anteroom_internal;
ALTER FUNCTION link_patient_on_write() OWNER TO anteroom_internal;
ALTER FUNCTION practice_patient_log() OWNER TO anteroom_internal;
ALTER FUNCTION appointment_request_slot_matches() OWNER TO anteroom_internal;
ALTER FUNCTION audit_row_change() OWNER TO anteroom_internal;
ALTER FUNCTION device_for_fingerprint(text) OWNER TO anteroom_internal;
-- The migration bookkeeping table (made by anteroom-admin before 0001) is for superusers only.
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE schema_migrations FORCE ROW LEVEL SECURITY;
REVOKE ALL ON schema_migrations FROM PUBLIC;
