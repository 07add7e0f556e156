-- 0007_sync_contract: what the hub's push and pull engine relies on (issue 9, DESIGN.md section 5),
-- all forward-only and additive except where a rule of 0003/0004 is tightened on purpose:
--
--   device.last_device_seq       each device's high-water device_seq, kept forever, only grows
--   idempotency_record           gains device_seq and a defined result shape
--   id_alias                     a device's local id -> the central id the hub chose (remaps)
--   walkin_review(_held)         walk-ins whose email exists centrally under another identity,
--                                with the mutations that depend on them, encrypted
--   anteroom_fold_name()         the kiosk's name folding (model nameLookupKey), in SQL
--   sync_match_walkin()          the only way a practice links an existing patient
--   patient links                an entry, appointment or request may name only a patient the
--                                practice already knows; the hub can no longer INSERT a link
--   change_log 'leave'           a row that moved out of a practice's sight tells its devices
--   NOTIFY anteroom_changes      one per practice per commit that logged a change (long-poll)
--   trimmed_through              the tombstone horizon retention leaves behind, per practice
--   apply_retention_batched      retention that commits every batch
--   appointment_request_slot_confirmed_once   a slot is confirmed to one request at most
--   hub and reporting sessions   in UTC whatever the database or server default says
--   retention rules              id aliases and resolved reviews; one-column keys found by index

SET LOCAL ROLE anteroom_owner;

-- [SECTION] device high-water mark and idempotency records
-- The hub keeps each device's highest applied device_seq forever (DESIGN 5.2): a mutation at or
-- below it is a repeat, and an unknown one at or below it means the device was restored from an
-- old copy. Lowering it would reopen replays, so device_maintain refuses that.
ALTER TABLE device ADD COLUMN last_device_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE device ADD CONSTRAINT device_last_device_seq_nonnegative CHECK (last_device_seq >= 0);

CREATE OR REPLACE FUNCTION device_maintain() RETURNS trigger
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
    IF NEW.last_device_seq < OLD.last_device_seq THEN
      RAISE EXCEPTION 'row of relation "device" violates check constraint "device_last_device_seq_only_grows": a device''s high-water device_seq never goes back'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'device_last_device_seq_only_grows', TABLE = 'device';
    END IF;
  END IF;
  RETURN NEW;
END
$$;

-- Row-level security scopes it: another practice's device (or none set) gives NULL.
CREATE FUNCTION sync_device_high_water(p_device uuid) RETURNS bigint
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, public
  AS $$ SELECT d.last_device_seq FROM device d WHERE d.device_id = p_device $$;

-- Rows recorded before this migration had no device_seq; 0 is below every real one.
ALTER TABLE idempotency_record ADD COLUMN device_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE idempotency_record ALTER COLUMN device_seq DROP DEFAULT;
ALTER TABLE idempotency_record ADD CONSTRAINT idempotency_record_device_seq_nonnegative CHECK (device_seq >= 0);
-- The stored result is what a repeated push gets back, so its shape is fixed here (DESIGN 5.2):
-- every status has what the device needs to act on it. coalesce: a missing key makes the
-- expression NULL, which a CHECK would otherwise let through. NOT VALID: rows written before
-- this contract keep their old shape (an upgrade never fails on them, and retention ages them
-- out); every new or changed row is checked.
ALTER TABLE idempotency_record ADD CONSTRAINT idempotency_record_result_shape CHECK (coalesce(
  result ->> 'status' IN ('applied', 'merged', 'rejected', 'remapped', 'held')
  AND (result ->> 'status' NOT IN ('applied', 'merged', 'remapped') OR jsonb_typeof(result -> 'row_version') = 'number')
  AND (result ->> 'status' NOT IN ('rejected', 'held')
       OR (jsonb_typeof(result -> 'code') = 'string' AND btrim(result ->> 'code') <> ''
           AND jsonb_typeof(result -> 'message') = 'string' AND btrim(result ->> 'message') <> ''))
  AND (result ->> 'status' <> 'remapped'
       OR (jsonb_typeof(result -> 'central_id') = 'string'
           AND result ->> 'central_id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')),
  false)) NOT VALID;
CREATE INDEX idempotency_record_device_seq_idx ON idempotency_record (device_id, device_seq);

-- [SECTION] id_alias
-- When the hub gives a device's new row another id (a walk-in linked to an existing patient), it
-- records the alias so later mutations naming the local id, and repeats, land on the central row.
CREATE TABLE id_alias (
  practice_id uuid        NOT NULL,
  entity      varchar(50) NOT NULL,
  local_id    uuid        NOT NULL,
  central_id  uuid        NOT NULL,
  device_id   uuid        NOT NULL,
  created_at  timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT id_alias_pkey PRIMARY KEY (entity, local_id),
  -- The device that made the local id; its aliases have no use once it is removed.
  CONSTRAINT id_alias_device_fkey FOREIGN KEY (device_id, practice_id)
    REFERENCES device (device_id, practice_id) ON DELETE CASCADE,
  CONSTRAINT id_alias_entity_valid CHECK (entity IN ('practice', 'provider', 'patient', 'waitlist', 'waitlist_entry',
    'appointment_slot', 'appointment_request', 'appointment', 'notification', 'staff_user')),
  CONSTRAINT id_alias_distinct CHECK (local_id <> central_id)
);
CREATE INDEX id_alias_practice_id_idx ON id_alias (practice_id);
CREATE INDEX id_alias_device_id_idx ON id_alias (device_id);

-- [SECTION] walk-in review queue
-- A walk-in whose email belongs to a central patient with another name or date of birth is
-- neither merged nor duplicated (DESIGN 5.3): the mutation waits here, with the mutations that
-- depend on it (walkin_review_held), until staff link it, create a new patient or dismiss it.
-- The payloads are the mutations' JSON encrypted with pii_encrypt (they hold PHI); a CHECK
-- refuses anything that does not start like pgcrypto's output (an OpenPGP session key packet),
-- so plaintext JSON cannot be stored by mistake.
CREATE TABLE walkin_review (
  review_id           uuid        NOT NULL,
  practice_id         uuid        NOT NULL,
  device_id           uuid        NOT NULL,
  local_patient_id    uuid        NOT NULL,
  mutation_id         uuid        NOT NULL,
  existing_patient_id uuid,                  -- set when staff resolve it; no FK, so it cannot probe ids
  reason              varchar(50) NOT NULL,
  payload             bytea       NOT NULL,  -- pii_encrypt of the mutation JSON
  status              varchar(20) NOT NULL DEFAULT 'open',
  created_at          timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  resolved_at         timestamp,
  resolved_by         text,                  -- 'staff:<id>' like app.actor
  CONSTRAINT walkin_review_pkey PRIMARY KEY (review_id),
  -- A review is a pending decision about PHI: removing its device must not drop it silently.
  CONSTRAINT walkin_review_device_fkey FOREIGN KEY (device_id, practice_id)
    REFERENCES device (device_id, practice_id) ON DELETE RESTRICT,
  -- A repeated push of the same walk-in finds its review instead of queueing a second one.
  CONSTRAINT walkin_review_mutation_key UNIQUE (device_id, mutation_id),
  CONSTRAINT walkin_review_status_valid CHECK (status IN ('open', 'linked', 'created', 'dismissed')),
  CONSTRAINT walkin_review_reason_format CHECK (reason ~ '^[a-z][a-z0-9_]{0,49}$'),
  CONSTRAINT walkin_review_payload_ciphertext CHECK (octet_length(payload) BETWEEN 40 AND 1048576 AND get_byte(payload, 0) = 195),
  CONSTRAINT walkin_review_resolution CHECK ((status = 'open') = (resolved_at IS NULL)),
  CONSTRAINT walkin_review_resolved_after_created CHECK (resolved_at IS NULL OR resolved_at >= created_at),
  -- The shape of app.actor ('staff:<id>'), so a name can never be stored here.
  CONSTRAINT walkin_review_resolved_by_format CHECK (resolved_by IS NULL OR resolved_by ~ '^[a-z_]{1,20}:[0-9A-Za-z._-]{1,64}$')
);
CREATE INDEX walkin_review_practice_status_idx ON walkin_review (practice_id, status);

CREATE TABLE walkin_review_held (
  review_id   uuid      NOT NULL,
  device_id   uuid      NOT NULL,
  mutation_id uuid      NOT NULL,
  device_seq  bigint    NOT NULL,
  payload     bytea     NOT NULL,  -- pii_encrypt of the mutation JSON
  created_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT walkin_review_held_pkey PRIMARY KEY (device_id, mutation_id),
  CONSTRAINT walkin_review_held_review_id_fkey FOREIGN KEY (review_id) REFERENCES walkin_review (review_id) ON DELETE CASCADE,
  CONSTRAINT walkin_review_held_device_seq_nonnegative CHECK (device_seq >= 0),
  CONSTRAINT walkin_review_held_payload_ciphertext CHECK (octet_length(payload) BETWEEN 40 AND 1048576 AND get_byte(payload, 0) = 195)
);
-- Replayed in device_seq order when the review is resolved.
CREATE INDEX walkin_review_held_review_idx ON walkin_review_held (review_id, device_seq);

-- [SECTION] name folding
-- Exactly storage/model's nameLookupKey (validation.cpp): ASCII letters lower-cased; other
-- characters that are not name letters (U+00C0..U+024F except × and ÷, U+1E00..U+1EFF) dropped,
-- so spaces, hyphens, apostrophes, periods and combining accents vanish; Latin-1 capitals moved
-- to their small letters; then the fold table below gives the ASCII base, and a letter without
-- one is kept as it is. tests/central/test_central_sync.cpp checks parity code point by code
-- point against the C++ function; change both together.
CREATE FUNCTION anteroom_fold_name(name text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, public
  AS $$
    SELECT coalesce(string_agg(
             CASE
               WHEN c.cp BETWEEN 65 AND 90 THEN chr(c.cp + 32)
               WHEN c.cp BETWEEN 97 AND 122 THEN c.ch
               WHEN NOT ((c.cp BETWEEN x'00C0'::int AND x'024F'::int AND c.cp NOT IN (x'00D7'::int, x'00F7'::int))
                         OR c.cp BETWEEN x'1E00'::int AND x'1EFF'::int) THEN ''
               ELSE coalesce((SELECT f.base FROM (VALUES
                   (x'00DF'::int, x'00DF'::int, 'ss'), (x'00E0'::int, x'00E5'::int, 'a'),  (x'00E6'::int, x'00E6'::int, 'ae'),
                   (x'00E7'::int, x'00E7'::int, 'c'),  (x'00E8'::int, x'00EB'::int, 'e'),  (x'00EC'::int, x'00EF'::int, 'i'),
                   (x'00F0'::int, x'00F0'::int, 'd'),  (x'00F1'::int, x'00F1'::int, 'n'),  (x'00F2'::int, x'00F6'::int, 'o'),
                   (x'00F8'::int, x'00F8'::int, 'o'),  (x'00F9'::int, x'00FC'::int, 'u'),  (x'00FD'::int, x'00FD'::int, 'y'),
                   (x'00FE'::int, x'00FE'::int, 'th'), (x'00FF'::int, x'00FF'::int, 'y'),  (x'0100'::int, x'0105'::int, 'a'),
                   (x'0106'::int, x'010D'::int, 'c'),  (x'010E'::int, x'0111'::int, 'd'),  (x'0112'::int, x'011B'::int, 'e'),
                   (x'011C'::int, x'0123'::int, 'g'),  (x'0124'::int, x'0127'::int, 'h'),  (x'0128'::int, x'0131'::int, 'i'),
                   (x'0132'::int, x'0133'::int, 'ij'), (x'0134'::int, x'0135'::int, 'j'),  (x'0136'::int, x'0138'::int, 'k'),
                   (x'0139'::int, x'0142'::int, 'l'),  (x'0143'::int, x'014B'::int, 'n'),  (x'014C'::int, x'0151'::int, 'o'),
                   (x'0152'::int, x'0153'::int, 'oe'), (x'0154'::int, x'0159'::int, 'r'),  (x'015A'::int, x'0161'::int, 's'),
                   (x'0162'::int, x'0167'::int, 't'),  (x'0168'::int, x'0173'::int, 'u'),  (x'0174'::int, x'0175'::int, 'w'),
                   (x'0176'::int, x'0178'::int, 'y'),  (x'0179'::int, x'017E'::int, 'z'),  (x'017F'::int, x'017F'::int, 's'),
                   (x'01A0'::int, x'01A1'::int, 'o'),  (x'01AF'::int, x'01B0'::int, 'u'),  (x'01CD'::int, x'01CE'::int, 'a'),
                   (x'01CF'::int, x'01D0'::int, 'i'),  (x'01D1'::int, x'01D2'::int, 'o'),  (x'01D3'::int, x'01DC'::int, 'u'),
                   (x'0218'::int, x'0219'::int, 's'),  (x'021A'::int, x'021B'::int, 't'),  (x'1E9E'::int, x'1E9E'::int, 'ss'),
                   (x'1EA0'::int, x'1EB7'::int, 'a'),  (x'1EB8'::int, x'1EC7'::int, 'e'),  (x'1EC8'::int, x'1ECB'::int, 'i'),
                   (x'1ECC'::int, x'1EE3'::int, 'o'),  (x'1EE4'::int, x'1EF1'::int, 'u'),  (x'1EF2'::int, x'1EF9'::int, 'y'))
                   AS f(first, last, base) WHERE c.small BETWEEN f.first AND f.last), chr(c.small))
             END, '' ORDER BY c.i), '')
      FROM (SELECT u.ch, u.i, ascii(u.ch) AS cp,
                   -- Latin-1 capitals sit 0x20 below their small letters (× is not a letter).
                   CASE WHEN ascii(u.ch) BETWEEN x'00C0'::int AND x'00DE'::int THEN ascii(u.ch) + 32
                        ELSE ascii(u.ch) END AS small
              FROM unnest(string_to_array(name, NULL)) WITH ORDINALITY AS u(ch, i)) c
  $$;

-- [SECTION] the change log: 'leave', NOTIFY, tombstone horizon
-- leave: the row still exists but this practice no longer sees it (an appointment moved to
-- another practice's provider); its devices drop their copy.
ALTER TABLE change_log DROP CONSTRAINT change_log_op_valid;
ALTER TABLE change_log ADD CONSTRAINT change_log_op_valid CHECK (op IN ('upsert', 'delete', 'purge', 'leave'));

-- The highest seq retention deleted for the practice: a device whose cursor is below it has
-- missed changes that no longer exist and must resync (409, DESIGN 5.3).
ALTER TABLE practice_change_counter ADD COLUMN trimmed_through bigint NOT NULL DEFAULT 0;
ALTER TABLE practice_change_counter ADD CONSTRAINT practice_change_counter_trimmed_within
  CHECK (trimmed_through BETWEEN 0 AND last_seq);

-- [SECTION] slot confirmation
-- The hub confirms a request in one transaction: the appointment (appointment_no_overlap keeps
-- a provider's live appointments apart), the slot booked, the entry scheduled. A slot is
-- confirmed to at most one request; a second confirmation fails on this index by name.
CREATE UNIQUE INDEX appointment_request_slot_confirmed_once ON appointment_request (appointment_slot_id)
  WHERE status = 'confirmed' AND NOT deleted;

-- [SECTION] retention in batches
-- One rule, one batch: up to batch_limit rows (all when NULL) past the rule's age, in key order
-- after after_key for the tables deleted row by row (so rows skipped because something still
-- references them are not visited again). more is true when the batch was full. Deleting
-- change_log rows moves the practices' tombstone horizon (trimmed_through).
CREATE FUNCTION retention_rule_batch(rule_id integer, as_of timestamp, batch_limit integer, after_key text,
                                     OUT removed bigint, OUT skipped bigint, OUT last_key text, OUT more boolean)
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  rule retention_policy;
  pk_cols text;
  pk_only text;
  pk_count integer;
  key_expr text;
  cond text;
  target text;
  k text;
BEGIN
  PERFORM set_config('anteroom.retention_run', 'on', true);
  SELECT * INTO STRICT rule FROM retention_policy rp WHERE rp.policy_id = rule_id;
  cond := format('%I < %L', rule.age_column, as_of - rule.keep_for);
  IF rule.only_tombstones THEN
    cond := cond || ' AND deleted';
  END IF;
  removed := 0; skipped := 0; last_key := after_key; more := false;
  IF rule.table_name IN ('change_log', 'idempotency_record', 'audit_event', 'archived_row') THEN
    target := CASE WHEN batch_limit IS NULL THEN cond
                   ELSE format('ctid = ANY (ARRAY(SELECT ctid FROM %I WHERE %s LIMIT %s))', rule.table_name, cond, batch_limit)
              END;
    IF rule.table_name = 'change_log' THEN
      EXECUTE format(
        'WITH gone AS (DELETE FROM change_log WHERE %s RETURNING practice_id, seq), '
        '     per_practice AS (SELECT practice_id, max(seq) AS top, count(*) AS n FROM gone GROUP BY practice_id), '
        '     horizon AS (UPDATE practice_change_counter c SET trimmed_through = greatest(c.trimmed_through, pp.top) '
        '                   FROM per_practice pp WHERE c.practice_id = pp.practice_id) '
        'SELECT coalesce(sum(n), 0)::bigint FROM per_practice', target) INTO removed;
    ELSE
      EXECUTE format('DELETE FROM %I WHERE %s', rule.table_name, target);
      GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
    more := batch_limit IS NOT NULL AND removed >= batch_limit;
    RETURN;
  END IF;
  SELECT string_agg(format('%I', a.attname), ' || '':'' || ' ORDER BY array_position(i.indkey, a.attnum)),
         min(format('%I', a.attname)), count(*)
    INTO pk_cols, pk_only, pk_count
    FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
   WHERE i.indrelid = rule.table_name::regclass AND i.indisprimary;
  -- A one-column key (every table here but id_alias) is compared as itself, so the primary key
  -- index finds each row; its text sorts as the uuid does, so the key order is the same.
  key_expr := CASE WHEN pk_count = 1 THEN pk_only ELSE format('(%s)::text', pk_cols) END;
  FOR k IN EXECUTE format('SELECT (%s)::text AS k FROM %I WHERE %s AND %s ORDER BY %s LIMIT %s',
                          pk_cols, rule.table_name, cond,
                          CASE WHEN after_key IS NULL THEN 'true' ELSE format('%s > %L', key_expr, after_key) END,
                          key_expr, coalesce(batch_limit::text, 'ALL')) LOOP
    BEGIN
      IF rule.action = 'archive' THEN
        EXECUTE format('INSERT INTO archived_row (table_name, row_id, row_data) SELECT %L, %L, to_jsonb(t) FROM %I t WHERE %s = %L',
                       rule.table_name, k, rule.table_name, key_expr, k);
      END IF;
      EXECUTE format('DELETE FROM %I WHERE %s = %L', rule.table_name, key_expr, k);
      removed := removed + 1;
    EXCEPTION WHEN foreign_key_violation THEN
      skipped := skipped + 1;
    END;
    last_key := k;
  END LOOP;
  more := batch_limit IS NOT NULL AND removed + skipped >= batch_limit;
END
$$;

-- The rules in the order they must run: children before parents, logs first.
CREATE FUNCTION retention_rules_in_order() RETURNS SETOF retention_policy
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, public
  AS $$
    SELECT rp.* FROM retention_policy rp
     ORDER BY array_position(ARRAY['change_log', 'idempotency_record', 'audit_event', 'archived_row',
                'id_alias', 'walkin_review', 'notification', 'appointment_request', 'appointment', 'waitlist_entry', 'appointment_slot',
                'staff_user', 'device', 'waitlist', 'provider', 'patient', 'practice'], rp.table_name), rp.policy_id
  $$;

-- Same signature and report as 0005's, now built from the shared batch step (one batch per rule).
CREATE OR REPLACE FUNCTION apply_retention(as_of timestamp DEFAULT (now() AT TIME ZONE 'UTC'))
  RETURNS TABLE (table_name text, action text, removed bigint, skipped bigint)
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  rule retention_policy;
  b record;
BEGIN
  FOR rule IN SELECT * FROM retention_rules_in_order() LOOP
    SELECT * INTO b FROM retention_rule_batch(rule.policy_id, as_of, NULL, NULL);
    table_name := rule.table_name; action := rule.action; removed := b.removed; skipped := b.skipped;
    RETURN NEXT;
  END LOOP;
END
$$;

-- The nightly timer's form: CALL apply_retention_batched(); (outside a transaction block). Each
-- batch commits, so a large purge never holds its locks, or a long snapshot, for long. as_of is
-- fixed at the call, so every batch uses the same cutoff. Reports one NOTICE per rule (table,
-- action, counts; never row contents). No SET clause: a procedure with one cannot COMMIT, so
-- every name it uses is schema-qualified instead.
CREATE PROCEDURE apply_retention_batched(batch_size integer DEFAULT 5000,
                                         as_of timestamp DEFAULT (now() AT TIME ZONE 'UTC'))
  LANGUAGE plpgsql
  AS $$
DECLARE
  rule_ids integer[];
  rule_id integer;
  b record;
  after_key text;
  removed bigint;
  skipped bigint;
BEGIN
  IF batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'apply_retention_batched: batch_size must be at least 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT array_agg(r.policy_id) INTO rule_ids FROM public.retention_rules_in_order() r;
  FOREACH rule_id IN ARRAY coalesce(rule_ids, ARRAY[]::integer[]) LOOP
    after_key := NULL; removed := 0; skipped := 0;
    LOOP
      SELECT * INTO b FROM public.retention_rule_batch(rule_id, as_of, batch_size, after_key);
      COMMIT;
      removed := removed + b.removed;
      skipped := skipped + b.skipped;
      after_key := b.last_key;
      EXIT WHEN NOT b.more;
    END LOOP;
    RAISE NOTICE 'retention rule %: removed %, skipped %', rule_id, removed, skipped;
  END LOOP;
END
$$;

-- [SECTION] row-level security and grants for the new tables
ALTER TABLE id_alias ENABLE ROW LEVEL SECURITY;
ALTER TABLE id_alias FORCE ROW LEVEL SECURITY;
ALTER TABLE walkin_review ENABLE ROW LEVEL SECURITY;
ALTER TABLE walkin_review FORCE ROW LEVEL SECURITY;
ALTER TABLE walkin_review_held ENABLE ROW LEVEL SECURITY;
ALTER TABLE walkin_review_held FORCE ROW LEVEL SECURITY;
CREATE POLICY id_alias_practice ON id_alias USING (practice_id = current_practice_id());
CREATE POLICY walkin_review_practice ON walkin_review USING (practice_id = current_practice_id());
-- Held mutations belong to their review's practice (the subquery is itself under walkin_review's
-- policy), so a hub can only hold mutations under its own practice's reviews.
CREATE POLICY walkin_review_held_practice ON walkin_review_held
  USING (EXISTS (SELECT 1 FROM walkin_review r
                 WHERE r.review_id = walkin_review_held.review_id AND r.practice_id = current_practice_id()));

GRANT SELECT, INSERT ON id_alias TO anteroom_hub;
GRANT SELECT, INSERT, UPDATE ON walkin_review, walkin_review_held TO anteroom_hub;
REVOKE ALL ON id_alias, walkin_review, walkin_review_held FROM PUBLIC;

RESET ROLE;

-- [SECTION] retention of the new tables
-- Written as the superuser: retention_policy has no policies, only superusers change it.
-- Rules: aliases live as long as the idempotency records of the pushes that
-- made them; a resolved review (its encrypted payload) 90 days after resolution, its held
-- mutations with it (ON DELETE CASCADE). Open reviews stay until staff resolve them.
ALTER TABLE retention_policy DROP CONSTRAINT retention_policy_table_valid;
ALTER TABLE retention_policy ADD CONSTRAINT retention_policy_table_valid CHECK (table_name IN ('practice', 'provider',
  'patient', 'waitlist', 'waitlist_entry', 'appointment_slot', 'appointment_request', 'appointment', 'notification',
  'staff_user', 'device', 'idempotency_record', 'change_log', 'audit_event', 'archived_row', 'id_alias', 'walkin_review'));
INSERT INTO retention_policy (table_name, age_column, keep_for, action, only_tombstones, note) VALUES
  ('id_alias',      'created_at',  interval '90 days', 'purge', false, 'remaps; as long as the idempotency records'),
  ('walkin_review', 'resolved_at', interval '90 days', 'purge', false, 'resolved walk-in reviews; open ones stay');

-- [SECTION] functions owned by anteroom_internal
-- Everything below reads or writes across practices, so it runs as anteroom_internal
-- (SECURITY DEFINER) with that role's narrow policies; CREATE OR REPLACE keeps the owner.

-- One change-log row for one practice, and the poke for long-polling hubs: pg_notify folds
-- identical notifications within a transaction, so a hub's LISTEN gets one per practice per
-- commit. The payload is the practice id only, never row data.
CREATE FUNCTION sync_append_change(practice uuid, entity text, entity_id uuid, op text, version bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  next_seq bigint;
BEGIN
  INSERT INTO practice_change_counter AS c (practice_id, last_seq) VALUES (practice, 1)
    ON CONFLICT (practice_id) DO UPDATE SET last_seq = c.last_seq + 1
    RETURNING c.last_seq INTO next_seq;
  INSERT INTO change_log (practice_id, seq, entity, entity_id, op, row_version)
    VALUES (practice, next_seq, entity, entity_id, op, version);
  PERFORM pg_notify('anteroom_changes', practice::text);
END
$$;
ALTER FUNCTION sync_append_change(uuid, text, uuid, text, bigint) OWNER TO anteroom_internal;

-- 0003's change-log trigger plus 'leave': on an UPDATE, the practices that saw the old row but
-- not the new one get a leave; the others an upsert or delete as before.
CREATE OR REPLACE FUNCTION sync_log_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  r jsonb;
  op text;
  sees uuid[];
  left_behind uuid[] := ARRAY[]::uuid[];
  moved boolean := false;
  change record;
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
  -- Only a change of the column that places the row can move it out of a practice's sight;
  -- checking that first keeps an ordinary update as cheap as before (one row_practices call).
  IF TG_OP = 'UPDATE' THEN
    CASE TG_TABLE_NAME
      WHEN 'provider', 'waitlist', 'staff_user' THEN
        moved := NEW.practice_id IS DISTINCT FROM OLD.practice_id;
      WHEN 'appointment_slot', 'appointment', 'appointment_request' THEN
        moved := NEW.provider_id IS DISTINCT FROM OLD.provider_id;
      WHEN 'waitlist_entry' THEN
        moved := NEW.waitlist_id IS DISTINCT FROM OLD.waitlist_id;
      WHEN 'notification' THEN
        moved := (NEW.recipient_id, NEW.recipient_type) IS DISTINCT FROM (OLD.recipient_id, OLD.recipient_type);
      ELSE
        moved := false;  -- practice (its own id) and patient (placed by links, not by a column)
    END CASE;
  END IF;
  sees := row_practices(TG_TABLE_NAME, r);
  IF moved THEN
    SELECT coalesce(array_agg(p), ARRAY[]::uuid[]) INTO left_behind
      FROM unnest(row_practices(TG_TABLE_NAME, to_jsonb(OLD))) p WHERE p <> ALL (sees);
  END IF;
  -- Sorted, so two transactions touching the same practices lock their counters in one order.
  FOR change IN SELECT DISTINCT p AS practice, CASE WHEN p = ANY (left_behind) THEN 'leave' ELSE op END AS op
                  FROM unnest(sees || left_behind) p ORDER BY 1 LOOP
    PERFORM sync_append_change(change.practice, TG_TABLE_NAME, (r ->> TG_ARGV[0])::uuid, change.op,
                               (r ->> 'row_version')::bigint);
  END LOOP;
  RETURN NULL;
END
$$;

-- 0004's: a new link sends the existing patient row to the newly linked practice's devices.
CREATE OR REPLACE FUNCTION practice_patient_log() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  version bigint;
BEGIN
  SELECT p.row_version INTO version FROM patient p WHERE p.patient_id = NEW.patient_id;
  IF version IS NOT NULL THEN
    PERFORM sync_append_change(NEW.practice_id, 'patient', NEW.patient_id, 'upsert', version);
  END IF;
  RETURN NULL;
END
$$;

-- 0004's link trigger, tightened. Registering a patient links it to the working practice, as
-- before. An entry, appointment or request may only name a patient its practice already knows:
-- knowing a patient's id is no longer enough to reach their record (the one way to link an
-- existing patient is sync_match_walkin). The refusal reads the same whether or not the patient
-- exists elsewhere, and it is only given for the working practice's own rows: a row aimed at
-- another practice is left to row-level security, so it cannot be used to ask about links there.
CREATE OR REPLACE FUNCTION link_patient_on_write() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  practice uuid;
BEGIN
  IF TG_TABLE_NAME = 'patient' THEN
    practice := current_practice_id();
    IF practice IS NOT NULL THEN
      PERFORM link_patient_to_practice(practice, NEW.patient_id);
    END IF;
    RETURN NEW;
  END IF;
  IF TG_TABLE_NAME = 'waitlist_entry' THEN
    IF TG_OP = 'UPDATE' AND NEW.patient_id = OLD.patient_id AND NEW.waitlist_id = OLD.waitlist_id THEN
      RETURN NEW;
    END IF;
    SELECT w.practice_id INTO practice FROM waitlist w WHERE w.waitlist_id = NEW.waitlist_id;
  ELSE  -- appointment, appointment_request
    IF TG_OP = 'UPDATE' AND NEW.patient_id = OLD.patient_id AND NEW.provider_id = OLD.provider_id THEN
      RETURN NEW;
    END IF;
    SELECT p.practice_id INTO practice FROM provider p WHERE p.provider_id = NEW.provider_id;
  END IF;
  IF practice IS NULL OR practice IS DISTINCT FROM coalesce(current_practice_id(), practice) THEN
    RETURN NEW;  -- an unknown waitlist or provider (its foreign key says so) or another practice's row (RLS)
  END IF;
  IF NOT EXISTS (SELECT 1 FROM practice_patient pp WHERE pp.practice_id = practice AND pp.patient_id = NEW.patient_id) THEN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%": patient is not known to this practice',
                    TG_TABLE_NAME, TG_TABLE_NAME || '_patient_known'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_patient_known', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END
$$;

-- The walk-in match (DESIGN 5.3). Given a walk-in's email, folded names and date of birth, it
-- answers one of:
--   absent    no central patient has that email (the hub registers a new one)
--   linked    the patient with that email has the same folded first and last names and date of
--             birth: it is now linked to the working practice, and its id is returned (remap)
--   mismatch  the email is taken by someone else, or by a deleted patient (never revived): the
--             walk-in goes to walkin_review
-- and reveals nothing else: no names, no id unless linked. Keys are bind parameters only.
CREATE FUNCTION sync_match_walkin(p_email text, p_first_folded text, p_last_folded text, p_dob date,
                                  p_pii_key text, p_hash_key text)
  RETURNS TABLE (outcome text, patient_id uuid)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  practice uuid := current_practice_id();
  candidate record;
BEGIN
  IF practice IS NULL THEN
    RAISE EXCEPTION 'sync_match_walkin works for one practice: set app.practice_id in this transaction first'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_email IS NULL OR p_first_folded IS NULL OR p_last_folded IS NULL OR p_dob IS NULL
     OR p_pii_key IS NULL OR p_hash_key IS NULL THEN
    RAISE EXCEPTION 'sync_match_walkin needs an email, both folded names, a date of birth and both keys'
      USING ERRCODE = 'null_value_not_allowed';
  END IF;
  IF anteroom_fold_name(p_first_folded) = '' OR anteroom_fold_name(p_last_folded) = '' THEN
    RAISE EXCEPTION 'sync_match_walkin: a folded name has no letters'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF length(p_pii_key) < 32 THEN
    RAISE EXCEPTION 'the PII key is too short (need 32 random bytes as 64 hex characters)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT p.patient_id, p.first_name, p.last_name, p.date_of_birth, p.deleted INTO candidate
    FROM patient p WHERE p.email_hash = pii_lookup_hash(p_email, p_hash_key);
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'absent'::text, NULL::uuid;
    RETURN;
  END IF;
  IF NOT candidate.deleted
     AND anteroom_fold_name(pii_decrypt(candidate.first_name, p_pii_key)) = anteroom_fold_name(p_first_folded)
     AND anteroom_fold_name(pii_decrypt(candidate.last_name, p_pii_key)) = anteroom_fold_name(p_last_folded)
     AND pii_decrypt(candidate.date_of_birth, p_pii_key) = to_char(p_dob, 'YYYY-MM-DD') THEN
    PERFORM link_patient_to_practice(practice, candidate.patient_id);
    RETURN QUERY SELECT 'linked'::text, candidate.patient_id;
    RETURN;
  END IF;
  RETURN QUERY SELECT 'mismatch'::text, NULL::uuid;
END
$$;
ALTER FUNCTION sync_match_walkin(text, text, text, date, text, text) OWNER TO anteroom_internal;

-- The tombstone horizon of the working practice (0 before any trim; NULL with no practice set).
-- The hub answers 409 resync to a pull whose cursor is below it.
CREATE FUNCTION sync_pull_horizon() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT CASE WHEN current_practice_id() IS NULL THEN NULL
                ELSE coalesce((SELECT c.trimmed_through FROM practice_change_counter c
                                WHERE c.practice_id = current_practice_id()), 0)
           END
  $$;
ALTER FUNCTION sync_pull_horizon() OWNER TO anteroom_internal;

-- The new tables join the audit trail (ids, operation and column names; never values).
CREATE TRIGGER id_alias_audit AFTER INSERT OR UPDATE OR DELETE ON id_alias
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('entity', 'local_id');
CREATE TRIGGER walkin_review_audit AFTER INSERT OR UPDATE OR DELETE ON walkin_review
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('review_id');
CREATE TRIGGER walkin_review_held_audit AFTER INSERT OR UPDATE OR DELETE ON walkin_review_held
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('device_id', 'mutation_id');

-- [SECTION] privileges
-- Linking goes through sync_match_walkin (and patient registration) only.
REVOKE INSERT ON practice_patient FROM anteroom_hub;

REVOKE ALL ON FUNCTION sync_device_high_water(uuid), anteroom_fold_name(text),
  sync_append_change(uuid, text, uuid, text, bigint), sync_match_walkin(text, text, text, date, text, text),
  sync_pull_horizon(), retention_rule_batch(integer, timestamp, integer, text), retention_rules_in_order()
  FROM PUBLIC;
REVOKE ALL ON PROCEDURE apply_retention_batched(integer, timestamp) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sync_device_high_water(uuid), sync_match_walkin(text, text, text, date, text, text),
  sync_pull_horizon() TO anteroom_hub;
GRANT EXECUTE ON FUNCTION anteroom_fold_name(text) TO anteroom_hub, anteroom_internal;

-- Sessions of the hub and of reporting read and write UTC wall-clock timestamps whatever the
-- database or server default says (the seed's TIMESTAMP columns hold UTC).
ALTER ROLE anteroom_hub SET timezone = 'UTC';
ALTER ROLE anteroom_reporting SET timezone = 'UTC';
