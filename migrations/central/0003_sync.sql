-- 0003_sync: what the hub needs for the sync protocol (DESIGN.md section 5), all additive:
-- row versions and tombstones maintained by the database, a per-practice change log in commit
-- order, devices, idempotency records and staff users.
--
--   row_version  every synced table (0002) carries it; the database sets it to 1 on insert and
--                adds 1 on every update that changes something, so the hub's compare-and-set on a
--                device's base_version cannot be fooled by a client-supplied value.
--   deleted      the tombstone flag; once true it stays true (a deleted record never comes back
--                through a late or conflicting update). Tombstones are purged by retention after
--                90 days (0005), well past the 30 days devices are promised.
--   updated_at   set by the database on every insert and update; created_at never changes.
--   change_log   one row per change per practice that can see the row. seq comes from
--                practice_change_counter, whose row for the practice is locked by the writing
--                transaction until it commits, so seq order is commit order for that practice:
--                a reader that has seen seq N never later finds a committed N-1. Writers of one
--                practice serialise on that row for the rest of their transaction; keep write
--                transactions short. Under REPEATABLE READ a concurrent writer gets a
--                serialization failure instead of waiting: the hub retries it (transient).

SET LOCAL ROLE anteroom_owner;

-- [SECTION] staff_user
-- Front-desk and clinical staff who unlock a kiosk's back office (model StaffUser). Synced to
-- the practice's devices so a PIN works offline; the PIN itself is never stored.
CREATE TABLE staff_user (
  staff_id     uuid         NOT NULL,
  practice_id  uuid         NOT NULL,
  display_name varchar(100) NOT NULL,
  role         varchar(20)  NOT NULL,
  pin_hash     text         NOT NULL,
  active       boolean      NOT NULL DEFAULT true,
  created_at   timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at   timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version  bigint       NOT NULL DEFAULT 1,
  deleted      boolean      NOT NULL DEFAULT false,
  CONSTRAINT staff_user_pkey PRIMARY KEY (staff_id),
  CONSTRAINT staff_user_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE RESTRICT,
  CONSTRAINT staff_user_display_name_not_blank CHECK (btrim(display_name) <> ''),
  CONSTRAINT staff_user_role_valid CHECK (role IN ('front_desk', 'clinician', 'manager', 'admin')),
  -- Argon2id strings from libsodium crypto_pwhash_str: refuses a PIN stored in the clear.
  CONSTRAINT staff_user_pin_hash_argon2id CHECK (pin_hash LIKE '$argon2id$%' AND length(pin_hash) <= 256)
);
CREATE INDEX staff_user_practice_id_idx ON staff_user (practice_id);

-- [SECTION] device
-- An enrolled kiosk. The hub authenticates a device by the SHA-256 fingerprint of its client
-- certificate (lower-case hex of the DER), then works for the device's practice.
CREATE TABLE device (
  device_id        uuid         NOT NULL,
  practice_id      uuid         NOT NULL,
  name             varchar(100) NOT NULL,
  cert_fingerprint varchar(64)  NOT NULL,
  enrolled_at      timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  revoked_at       timestamp,
  last_seen_at     timestamp,
  CONSTRAINT device_pkey PRIMARY KEY (device_id),
  -- Devices and their records go with the practice only through retention, never by accident.
  CONSTRAINT device_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE RESTRICT,
  CONSTRAINT device_cert_fingerprint_key UNIQUE (cert_fingerprint),
  -- Lets idempotency_record prove its device belongs to the same practice.
  CONSTRAINT device_device_practice_key UNIQUE (device_id, practice_id),
  CONSTRAINT device_cert_fingerprint_format CHECK (cert_fingerprint ~ '^[0-9a-f]{64}$'),
  CONSTRAINT device_name_not_blank CHECK (btrim(name) <> ''),
  CONSTRAINT device_revoked_after_enrolled CHECK (revoked_at IS NULL OR revoked_at >= enrolled_at)
);
CREATE INDEX device_practice_id_idx ON device (practice_id);

-- [SECTION] idempotency_record
-- The outcome of every pushed mutation, so a repeated push returns the stored result and
-- changes nothing. Written in the transaction that applies the mutation.
CREATE TABLE idempotency_record (
  device_id   uuid      NOT NULL,
  mutation_id uuid      NOT NULL,
  practice_id uuid      NOT NULL,
  result      jsonb     NOT NULL,
  created_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT idempotency_record_pkey PRIMARY KEY (device_id, mutation_id),
  -- A removed device's replay protection has no use left.
  CONSTRAINT idempotency_record_device_fkey FOREIGN KEY (device_id, practice_id)
    REFERENCES device (device_id, practice_id) ON DELETE CASCADE,
  CONSTRAINT idempotency_record_result_object CHECK (jsonb_typeof(result) = 'object')
);
CREATE INDEX idempotency_record_created_at_idx ON idempotency_record (created_at);

-- [SECTION] change log
CREATE TABLE practice_change_counter (
  practice_id uuid   NOT NULL,
  last_seq    bigint NOT NULL,
  CONSTRAINT practice_change_counter_pkey PRIMARY KEY (practice_id),
  CONSTRAINT practice_change_counter_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE CASCADE
);

-- No foreign key on this hot, append-only table: practice_change_counter carries the
-- reference, and retention (0005) trims old rows.
CREATE TABLE change_log (
  practice_id uuid        NOT NULL,
  seq         bigint      NOT NULL,
  entity      varchar(50) NOT NULL,
  entity_id   uuid        NOT NULL,
  op          varchar(10) NOT NULL,
  row_version bigint      NOT NULL,
  changed_at  timestamp   NOT NULL DEFAULT (clock_timestamp() AT TIME ZONE 'UTC'),
  CONSTRAINT change_log_pkey PRIMARY KEY (practice_id, seq),
  CONSTRAINT change_log_entity_valid CHECK (entity IN ('practice', 'provider', 'patient', 'waitlist', 'waitlist_entry',
    'appointment_slot', 'appointment_request', 'appointment', 'notification', 'staff_user')),
  -- upsert: the row is live; delete: it became a tombstone; purge: retention removed it.
  CONSTRAINT change_log_op_valid CHECK (op IN ('upsert', 'delete', 'purge'))
);
CREATE INDEX change_log_changed_at_idx ON change_log (changed_at);

-- [SECTION] row maintenance
-- BEFORE INSERT/UPDATE on every synced table: server-owned columns are set here, not trusted
-- from the client.
CREATE FUNCTION sync_row_maintain() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.row_version := 1;
    NEW.updated_at := now() AT TIME ZONE 'UTC';
    NEW.created_at := coalesce(NEW.created_at, NEW.updated_at);
    RETURN NEW;
  END IF;
  IF OLD.deleted AND NOT NEW.deleted THEN
    -- Worded like PostgreSQL's own CHECK errors, so callers find the rule's name in the message.
    RAISE EXCEPTION 'row of relation "%" violates check constraint "%": a deleted row cannot be restored',
                    TG_TABLE_NAME, TG_TABLE_NAME || '_tombstone_final'
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_tombstone_final',
            TABLE = TG_TABLE_NAME;
  END IF;
  NEW.created_at := OLD.created_at;
  NEW.row_version := OLD.row_version;
  NEW.updated_at := OLD.updated_at;
  -- A replayed update that changes nothing keeps its version and makes no change-log row.
  IF NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NEW;
  END IF;
  NEW.row_version := OLD.row_version + 1;
  NEW.updated_at := now() AT TIME ZONE 'UTC';
  RETURN NEW;
END
$$;

-- The practices that can see a row of a synced table; they are the ones whose devices get it.
CREATE FUNCTION row_practices(entity text, r jsonb) RETURNS uuid[]
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  result uuid[];
BEGIN
  CASE entity
    WHEN 'practice' THEN
      result := ARRAY[(r ->> 'practice_id')::uuid];
    WHEN 'provider', 'waitlist', 'staff_user' THEN
      result := ARRAY[(r ->> 'practice_id')::uuid];
    WHEN 'appointment_slot', 'appointment', 'appointment_request' THEN
      SELECT array_agg(p.practice_id) INTO result FROM provider p WHERE p.provider_id = (r ->> 'provider_id')::uuid;
    WHEN 'waitlist_entry' THEN
      SELECT array_agg(w.practice_id) INTO result FROM waitlist w WHERE w.waitlist_id = (r ->> 'waitlist_id')::uuid;
    WHEN 'patient' THEN
      SELECT array_agg(pp.practice_id ORDER BY pp.practice_id) INTO result
        FROM practice_patient pp WHERE pp.patient_id = (r ->> 'patient_id')::uuid;
    WHEN 'notification' THEN
      CASE r ->> 'recipient_type'
        WHEN 'provider' THEN
          SELECT array_agg(p.practice_id) INTO result FROM provider p WHERE p.provider_id = (r ->> 'recipient_id')::uuid;
        WHEN 'patient' THEN
          SELECT array_agg(pp.practice_id ORDER BY pp.practice_id) INTO result
            FROM practice_patient pp WHERE pp.patient_id = (r ->> 'recipient_id')::uuid;
        ELSE
          SELECT array_agg(x.practice_id) INTO result FROM (
            SELECT pr.practice_id FROM practice pr WHERE pr.practice_id = (r ->> 'recipient_id')::uuid
            UNION SELECT s.practice_id FROM staff_user s WHERE s.staff_id = (r ->> 'recipient_id')::uuid) x;
      END CASE;
    ELSE
      RAISE EXCEPTION 'row_practices: unknown entity %', entity;
  END CASE;
  RETURN coalesce(result, ARRAY[]::uuid[]);
END
$$;

-- Appends one change per practice. Runs as anteroom_internal (SECURITY DEFINER): the change log
-- is written for every practice that can see the row, not only the writer's, and no login role
-- may write it directly. TG_ARGV[0] names the primary key column.
CREATE FUNCTION sync_log_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  r jsonb;
  op text;
  practice uuid;
  next_seq bigint;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.row_version = OLD.row_version THEN
    RETURN NULL;  -- nothing changed (see sync_row_maintain)
  END IF;
  IF TG_OP = 'DELETE' THEN
    r := to_jsonb(OLD);
    op := 'purge';
  ELSE
    r := to_jsonb(NEW);
    op := CASE WHEN (r ->> 'deleted')::boolean THEN 'delete' ELSE 'upsert' END;
  END IF;
  -- Sorted, so two transactions touching the same practices lock their counters in one order.
  FOREACH practice IN ARRAY (SELECT coalesce(array_agg(DISTINCT p ORDER BY p), ARRAY[]::uuid[])
                              FROM unnest(row_practices(TG_TABLE_NAME, r)) p) LOOP
    INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (practice, 1)
      ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + 1
      RETURNING c.last_seq INTO next_seq;
    INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
      VALUES (practice, next_seq, TG_TABLE_NAME, (r ->> TG_ARGV[0])::uuid, op, (r ->> 'row_version')::bigint);
  END LOOP;
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('practice', 'practice_id'), ('provider', 'provider_id'), ('patient', 'patient_id'),
      ('waitlist', 'waitlist_id'), ('waitlist_entry', 'entry_id'), ('appointment_slot', 'slot_id'),
      ('appointment_request', 'request_id'), ('appointment', 'appointment_id'),
      ('notification', 'notification_id'), ('staff_user', 'staff_id')) AS v(name, pk)
  LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION sync_row_maintain()',
                   t.name || '_maintain', t.name);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION sync_log_change(%L)',
                   t.name || '_change_log', t.name, t.pk);
  END LOOP;
END
$$;

-- device has no row_version, but its timestamps are still the database's.
CREATE FUNCTION device_maintain() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    NEW.enrolled_at := OLD.enrolled_at;
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
      RAISE EXCEPTION 'row of relation "device" violates check constraint "device_revocation_final": a revoked device stays revoked; enroll it again with a new certificate'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'device_revocation_final', TABLE = 'device';
    END IF;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER device_maintain BEFORE INSERT OR UPDATE ON device FOR EACH ROW EXECUTE FUNCTION device_maintain();

RESET ROLE;
ALTER FUNCTION sync_log_change() OWNER TO anteroom_internal;
ALTER FUNCTION row_practices(text, jsonb) OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION sync_log_change(), row_practices(text, jsonb), sync_row_maintain(), device_maintain() FROM PUBLIC;
