-- 0001_foundation: roles, extensions, audit settings and the helpers every later migration uses.
-- Applied by a superuser (anteroom-admin central migrate), in one transaction like every migration.

-- [SECTION] Preconditions
-- pgaudit must be loaded by the server: without it there is no statement audit trail, and a
-- central database holding PHI must not come up half-audited.
DO $$
BEGIN
  IF current_setting('shared_preload_libraries') NOT LIKE '%pgaudit%' THEN
    RAISE EXCEPTION 'pgaudit is not in shared_preload_libraries; add it to postgresql.conf and restart (see migrations/central/README.md)';
  END IF;
  IF current_setting('server_version_num')::int < 150000 THEN
    RAISE EXCEPTION 'the central schema needs PostgreSQL 15 or later';
  END IF;
END
$$;

-- [SECTION] Roles
-- Roles are cluster-wide, so a second Anteroom database in the same cluster finds them already
-- made. None of them is a superuser or has BYPASSRLS: row-level security applies to all of them.
--   anteroom_owner      owns every object; cannot log in (migrations run as a superuser and hand
--                       objects to it), subject to FORCE ROW LEVEL SECURITY like everyone else.
--   anteroom_hub        the hub's login: reads and writes domain rows of one practice at a time.
--   anteroom_reporting  read-only, same practice scoping as the hub.
--   anteroom_auditor    reads the audit tables only.
--   anteroom_internal   owns the few SECURITY DEFINER functions (change log, audit, device lookup)
--                       that must write or read across practices; cannot log in, and has
--                       policies only on the tables those functions touch.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES ('anteroom_owner', false), ('anteroom_hub', true),
                                 ('anteroom_reporting', true), ('anteroom_auditor', true),
                                 ('anteroom_internal', false)) AS t(name, login)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
      EXECUTE format('CREATE ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT',
                     r.name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
    ELSE
      -- Re-assert the attributes in case someone loosened them by hand.
      EXECUTE format('ALTER ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                     r.name, CASE WHEN r.login THEN 'LOGIN' ELSE 'NOLOGIN' END);
    END IF;
  END LOOP;
END
$$;

-- [SECTION] Extensions
-- pgcrypto: PII column encryption and keyed hashes. btree_gist: exclusion constraints that mix
-- uuid equality with range overlap. btree_gin: GIN indexes that combine uuid equality with jsonb
-- containment. pgaudit: statement audit log.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE EXTENSION IF NOT EXISTS pgaudit;

-- [SECTION] Database settings
-- pgaudit.log_parameter stays off: parameters carry the PII key and PHI values, and with it on
-- they would be copied into the server log. Only superusers can change these (PGC_SUSET), so the
-- hub cannot turn them back on. log_error_verbosity=terse keeps "Failing row contains (...)"
-- details, which would show plaintext columns such as notes, out of the log.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET pgaudit.log = %L', current_database(), 'read, write, ddl, role');
  EXECUTE format('ALTER DATABASE %I SET pgaudit.log_parameter = off', current_database());
  EXECUTE format('ALTER DATABASE %I SET pgaudit.log_catalog = off', current_database());
  EXECUTE format('ALTER DATABASE %I SET pgaudit.log_relation = on', current_database());
  EXECUTE format('ALTER DATABASE %I SET log_error_verbosity = terse', current_database());
  -- Timestamps are stored as UTC wall-clock (the seed's TIMESTAMP without time zone).
  EXECUTE format('ALTER DATABASE %I SET timezone = %L', current_database(), 'UTC');
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO anteroom_hub, anteroom_reporting, anteroom_auditor',
                 current_database());
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO anteroom_owner;
GRANT USAGE ON SCHEMA public TO anteroom_hub, anteroom_reporting, anteroom_auditor, anteroom_internal;

-- [SECTION] Helpers
-- The practice a session works for: the transaction setting app.practice_id, set by the hub with
-- set_config('app.practice_id', $1, true). Unset or empty means NULL, which every policy treats
-- as "no rows".
CREATE FUNCTION current_practice_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.practice_id', true), '')::uuid $$;

-- PII encryption. The key is 32 random bytes (64 hex characters), always passed as a bind
-- parameter so neither the statement text nor pgaudit (log_parameter=off) ever holds it.
-- s2k-mode=1 (salted, not iterated): iteration only helps low-entropy passwords, and with a random
-- key it costs ~0.1 ms a value for nothing (measured: 5,000 values 548 ms iterated, 33 ms salted).
-- No compression: compressed length would leak information about the plaintext.
CREATE FUNCTION pii_encrypt(plaintext text, key text) RETURNS bytea
  LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF length(key) < 32 THEN
    RAISE EXCEPTION 'the PII key is too short (need 32 random bytes as 64 hex characters)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN pgp_sym_encrypt(plaintext, key, 'cipher-algo=aes256, s2k-mode=1, s2k-digest-algo=sha256, compress-algo=0');
END
$$;

-- Decrypts a value written by pii_encrypt; a wrong key raises "Wrong key or corrupt data".
CREATE FUNCTION pii_decrypt(ciphertext bytea, key text) RETURNS text
  LANGUAGE sql STABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, public
  AS $$ SELECT pgp_sym_decrypt(ciphertext, key) $$;

-- Keyed hash for equality lookups and uniqueness on encrypted values (patient.email_hash).
-- A plain hash of an email is reversible by guessing; the HMAC key is separate from the
-- encryption key so one leaking does not give away the other.
CREATE FUNCTION pii_lookup_hash(value text, hash_key text) RETURNS bytea
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF length(hash_key) < 32 THEN
    RAISE EXCEPTION 'the lookup hash key is too short (need 32 random bytes as 64 hex characters)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN hmac(lower(btrim(value)), hash_key, 'sha256');
END
$$;

REVOKE ALL ON FUNCTION pii_encrypt(text, text), pii_decrypt(bytea, text), pii_lookup_hash(text, text),
  current_practice_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pii_encrypt(text, text), pii_decrypt(bytea, text), pii_lookup_hash(text, text),
  current_practice_id() TO anteroom_owner, anteroom_hub, anteroom_reporting, anteroom_internal;
ALTER FUNCTION current_practice_id() OWNER TO anteroom_owner;
ALTER FUNCTION pii_encrypt(text, text) OWNER TO anteroom_owner;
ALTER FUNCTION pii_decrypt(bytea, text) OWNER TO anteroom_owner;
ALTER FUNCTION pii_lookup_hash(text, text) OWNER TO anteroom_owner;
