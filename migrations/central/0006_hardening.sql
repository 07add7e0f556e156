-- 0006_hardening: what an audit of the central schema found (issue 12), all in one forward-only
-- file: the reporting role can read notifications, identifying insurance numbers are refused at
-- any depth and in any spelling, every JSON column has a size ceiling, PII columns hold only
-- pii_encrypt's message format, rows reference only their own practice's rows, and the server
-- settings that keep PHI out of the log are set on the database and checked by
-- 'anteroom-admin central status' (README.md, "Server configuration").

SET LOCAL ROLE anteroom_owner;

-- [SECTION] notification visibility
-- The policy of 0004 read staff_user directly, which only the hub may read (it holds PIN
-- hashes): anteroom_reporting got "permission denied for table staff_user" on every notification.
-- The same rule, answered by anteroom_internal for the session's practice only.
CREATE FUNCTION notification_visible(kind text, recipient uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT CASE kind
             WHEN 'provider' THEN EXISTS (SELECT 1 FROM provider p
                                          WHERE p.provider_id = recipient AND p.practice_id = current_practice_id())
             WHEN 'patient' THEN EXISTS (SELECT 1 FROM practice_patient pp
                                         WHERE pp.patient_id = recipient AND pp.practice_id = current_practice_id())
             ELSE recipient = current_practice_id()
                  OR EXISTS (SELECT 1 FROM staff_user s
                             WHERE s.staff_id = recipient AND s.practice_id = current_practice_id())
           END
  $$;
DROP POLICY notification_practice ON notification;
CREATE POLICY notification_practice ON notification USING (notification_visible(recipient_type, recipient_id));

-- [SECTION] identifying numbers in patient.insurance_info
-- 0002 looked only at exact top-level keys. Every key at every depth (objects inside objects and
-- arrays) is compared after NFKC normalisation, lower-casing and dropping everything but letters
-- and digits, so "Member_ID", "memberId", "member-id" and "plan.member_id" are all caught.
-- Like is_pii_ciphertext below: no SET search_path (a SET clause stops PostgreSQL inlining the
-- function and costs a settings save and restore on every row), so every name in it is
-- pg_catalog's, which a caller cannot shadow (no login role can create a schema or an object).
CREATE FUNCTION jsonb_has_identifier_key(doc jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
    SELECT EXISTS (
      SELECT 1 FROM jsonb_path_query(doc, 'strict $.** ? (@.type() == "object").keyvalue()') kv
       WHERE regexp_replace(lower(normalize(kv ->> 'key', NFKC)), '[^a-z0-9]', '', 'g') IN
             ('memberid', 'membernumber', 'memberno', 'groupid', 'groupnumber', 'groupno', 'subscriberid',
              'subscribernumber', 'policyid', 'policynumber', 'policyno', 'ssn', 'socialsecuritynumber'))
  $$;
ALTER TABLE patient DROP CONSTRAINT patient_insurance_info_no_identifiers;
ALTER TABLE patient ADD CONSTRAINT patient_insurance_info_no_identifiers
  CHECK (NOT jsonb_has_identifier_key(insurance_info));

-- [SECTION] JSON size ceilings
-- Measured as the JSON text the hub sends. Each fits its purpose with room to spare; a larger
-- value is a bug or an attack (a 100 MB notification, a million-key object), refused here.
--   practice.address 2 KiB, practice.settings 64 KiB, provider specialties and modalities
--   4 KiB each, availability 16 KiB, patient.insurance_info 4 KiB, waitlist.criteria 16 KiB,
--   notification.content 16 KiB, idempotency_record.result 256 KiB (it may carry the
--   authoritative row), archived_row.row_data 1 MiB (a whole row, ciphertext hex-encoded).
ALTER TABLE practice ADD CONSTRAINT practice_address_size CHECK (octet_length(address::text) <= 2048);
ALTER TABLE practice ADD CONSTRAINT practice_settings_size CHECK (octet_length(settings::text) <= 65536);
ALTER TABLE provider ADD CONSTRAINT provider_specialties_size CHECK (octet_length(specialties::text) <= 4096);
ALTER TABLE provider ADD CONSTRAINT provider_modalities_size CHECK (octet_length(modalities::text) <= 4096);
ALTER TABLE provider ADD CONSTRAINT provider_availability_size CHECK (octet_length(availability::text) <= 16384);
ALTER TABLE patient ADD CONSTRAINT patient_insurance_info_size CHECK (octet_length(insurance_info::text) <= 4096);
ALTER TABLE waitlist ADD CONSTRAINT waitlist_criteria_size CHECK (octet_length(criteria::text) <= 16384);
ALTER TABLE notification ADD CONSTRAINT notification_content_size CHECK (octet_length(content::text) <= 16384);
ALTER TABLE idempotency_record ADD CONSTRAINT idempotency_record_result_size
  CHECK (octet_length(result::text) <= 262144);
ALTER TABLE archived_row ADD CONSTRAINT archived_row_row_data_size CHECK (octet_length(row_data::text) <= 1048576);

-- [SECTION] PII ciphertext format
-- 0002 checked only lengths, so plaintext (convert_to('...', 'UTF8')) and zeros passed. Every PII
-- value must be the OpenPGP message pii_encrypt writes: a symmetric-key session key packet
-- (new format, tag 3, 12 bytes: version 4, AES-256, salted S2K with SHA-256, 8 salt bytes)
-- followed by a symmetrically encrypted integrity-protected data packet (tag 18). The keyed
-- email hash is exactly 32 bytes (0002) and never all zeros.
CREATE FUNCTION is_pii_ciphertext(value bytea) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
    SELECT octet_length(value) >= 40
       AND substring(value FROM 1 FOR 6) = '\xc30c04090108'::bytea
       AND get_byte(value, 14) = 210
  $$;
ALTER TABLE patient ADD CONSTRAINT patient_first_name_pgp_message CHECK (is_pii_ciphertext(first_name));
ALTER TABLE patient ADD CONSTRAINT patient_last_name_pgp_message CHECK (is_pii_ciphertext(last_name));
ALTER TABLE patient ADD CONSTRAINT patient_email_pgp_message CHECK (is_pii_ciphertext(email));
ALTER TABLE patient ADD CONSTRAINT patient_phone_pgp_message CHECK (is_pii_ciphertext(phone));
ALTER TABLE patient ADD CONSTRAINT patient_date_of_birth_pgp_message CHECK (is_pii_ciphertext(date_of_birth));
ALTER TABLE patient ADD CONSTRAINT patient_preferences_pgp_message CHECK (is_pii_ciphertext(preferences));
ALTER TABLE patient ADD CONSTRAINT patient_insurance_ids_pgp_message
  CHECK (insurance_ids IS NULL OR is_pii_ciphertext(insurance_ids));
ALTER TABLE patient ADD CONSTRAINT patient_email_hash_not_zero
  CHECK (email_hash <> decode(repeat('00', 32), 'hex'));

-- [SECTION] references stay inside the practice
-- A foreign key only proves that the row exists: practice A could name B's provider as an
-- entry's preferred provider, or B's waitlist entry in its appointment, and the foreign key's
-- error told A whether an id it guessed existed. A row may reference only rows of its own
-- practice, and "not yours" and "does not exist" are the same error, raised before the foreign
-- key is checked. (Patients are shared through practice_patient links by design: 0004.)
-- The practice of a row comes from its waitlist (entries) or its provider (appointments,
-- requests); row-level security already keeps those two inside the session's practice.
CREATE FUNCTION reference_same_practice() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  own uuid;
  bad text;
BEGIN
  IF TG_TABLE_NAME = 'waitlist_entry' THEN
    SELECT w.practice_id INTO own FROM waitlist w WHERE w.waitlist_id = NEW.waitlist_id;
  ELSE
    SELECT p.practice_id INTO own FROM provider p WHERE p.provider_id = NEW.provider_id;
  END IF;
  IF own IS NULL THEN
    RETURN NEW;  -- the row's own parent is missing: its foreign key (or the policy) refuses it
  END IF;
  IF TG_TABLE_NAME = 'waitlist_entry' THEN
    IF NEW.provider_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM provider p WHERE p.provider_id = NEW.provider_id AND p.practice_id = own) THEN
      bad := 'provider';
    END IF;
  ELSE
    IF NEW.waitlist_entry_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM waitlist_entry e JOIN waitlist w ON w.waitlist_id = e.waitlist_id
         WHERE e.entry_id = NEW.waitlist_entry_id AND w.practice_id = own) THEN
      bad := 'waitlist_entry';
    ELSIF TG_TABLE_NAME = 'appointment_request' THEN
      -- Its own statement: NEW of an appointment has no such field.
      IF NOT EXISTS (SELECT 1 FROM appointment_slot s JOIN provider p ON p.provider_id = s.provider_id
                      WHERE s.slot_id = NEW.appointment_slot_id AND p.practice_id = own) THEN
        bad := 'appointment_slot';
      END IF;
    END IF;
  END IF;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'row of relation "%" violates check constraint "%": the % it names is not one of this practice''s',
                    TG_TABLE_NAME, TG_TABLE_NAME || '_' || bad || '_same_practice', bad
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_' || bad || '_same_practice',
            TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER waitlist_entry_same_practice BEFORE INSERT OR UPDATE OF waitlist_id, provider_id ON waitlist_entry
  FOR EACH ROW EXECUTE FUNCTION reference_same_practice();
CREATE TRIGGER appointment_same_practice BEFORE INSERT OR UPDATE OF provider_id, waitlist_entry_id ON appointment
  FOR EACH ROW EXECUTE FUNCTION reference_same_practice();
CREATE TRIGGER appointment_request_same_practice
  BEFORE INSERT OR UPDATE OF provider_id, waitlist_entry_id, appointment_slot_id ON appointment_request
  FOR EACH ROW EXECUTE FUNCTION reference_same_practice();
-- What the check reads across practices, as anteroom_internal.
CREATE POLICY internal_read ON waitlist_entry FOR SELECT TO anteroom_internal USING (true);

RESET ROLE;
GRANT SELECT ON waitlist_entry TO anteroom_internal;
ALTER FUNCTION notification_visible(text, uuid) OWNER TO anteroom_internal;
ALTER FUNCTION reference_same_practice() OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION notification_visible(text, uuid), reference_same_practice() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION notification_visible(text, uuid) TO anteroom_owner, anteroom_hub, anteroom_reporting;

-- [SECTION] server settings that keep PHI out of the log
-- log_error_verbosity = terse (0001) was the only thing keeping bound values out: the hub may
-- SET log_parameter_max_length_on_error = -1, and an error message itself can quote the value
-- that failed ('invalid input syntax for type date: "..."'), terse or not. So, for this
-- database (superuser-only settings, which no Anteroom role can change back):
--   log_min_messages = log            errors go to the client only (the hub journals their
--                                     SQLSTATE and constraint), never to the server log;
--                                     pgaudit's AUDIT lines are LOG and stay
--   log_parameter_max_length = 0      no bound values beside logged statements
-- and, for each login role in this database (overriding a role-wide setting):
--   log_parameter_max_length_on_error = 0
-- 'anteroom-admin central status' reports these and every other setting in README.md's
-- configuration, and the hub refuses to start while one is unsafe.
DO $$
DECLARE
  r text;
BEGIN
  EXECUTE format('ALTER DATABASE %I SET log_min_messages = log', current_database());
  EXECUTE format('ALTER DATABASE %I SET log_parameter_max_length = 0', current_database());
  EXECUTE format('ALTER DATABASE %I SET log_parameter_max_length_on_error = 0', current_database());
  FOREACH r IN ARRAY ARRAY['anteroom_hub', 'anteroom_reporting', 'anteroom_auditor'] LOOP
    EXECUTE format('ALTER ROLE %I IN DATABASE %I SET log_parameter_max_length_on_error = 0', r, current_database());
  END LOOP;
END
$$;
