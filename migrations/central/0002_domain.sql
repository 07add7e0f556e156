-- 0002_domain: the nine tables of spec/central-schema.md with the seed's columns, types, NOT NULL,
-- UNIQUE, foreign keys and indexes, plus the business rules the database itself enforces.
--
-- Documented departures and additions (all additive; the seed's column names are kept):
--   * patient.first_name, last_name, email, phone, date_of_birth and preferences hold pgcrypto
--     ciphertext (bytea) instead of VARCHAR/DATE/JSONB: encrypted bytes cannot be stored in those
--     types. Length and format rules for them are enforced before encryption (the hub validates
--     with anteroom_model); here only the ciphertext size is capped.
--   * patient.email's UNIQUE moves to patient.email_hash (HMAC-SHA256 of the lower-cased address
--     under a separate key): ciphertext uses a random IV, so equal emails never compare equal,
--     and the seed's "index on email for lookup" is the unique index on email_hash.
--   * patient.insurance_info stays JSONB because the seed asks for a GIN index for JSON path
--     queries (payer, plan, self_pay). The identifying numbers (member_id, group_number) may not
--     appear in it: they go, encrypted, into the added column patient.insurance_ids.
--   * Every synced table gains row_version (server-assigned, +1 on every update) and deleted
--     (tombstone) for the sync protocol (DESIGN.md section 5); see 0003_sync.sql.
--   * waitlist_entry gains urgency (0..3) and urgency_set_by (staff id), as the local store has.
--   * practice_patient links a practice to the patients it serves: the seed's patient has no
--     practice, and row-level security needs one (0004_security.sql).
-- Timestamps are the seed's TIMESTAMP (without time zone) and always hold UTC.
-- Status and type values are those of storage/model/include/anteroom/model/status.hpp.

SET LOCAL ROLE anteroom_owner;

-- [SECTION] practice
CREATE TABLE practice (
  practice_id uuid         NOT NULL,
  name        varchar(255) NOT NULL,
  address     jsonb        NOT NULL,
  phone       varchar(20)  NOT NULL,
  email       varchar(255) NOT NULL,
  settings    jsonb        NOT NULL,
  created_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version bigint       NOT NULL DEFAULT 1,
  deleted     boolean      NOT NULL DEFAULT false,
  CONSTRAINT practice_pkey PRIMARY KEY (practice_id),
  CONSTRAINT practice_email_key UNIQUE (email),
  CONSTRAINT practice_name_not_blank CHECK (btrim(name) <> ''),
  -- Emails and phones in the forms the kiosk's validation produces (anteroom_model
  -- normalizeEmail: lower-case ASCII; normalizePhone: E.164).
  CONSTRAINT practice_phone_format CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  CONSTRAINT practice_email_format CHECK (email ~ '^[a-z0-9!#$%&''*+/=?^_`{|}~.-]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$'),
  CONSTRAINT practice_address_object CHECK (jsonb_typeof(address) = 'object'),
  CONSTRAINT practice_settings_object CHECK (jsonb_typeof(settings) = 'object')
);
-- Seed index "practice.email": the UNIQUE constraint's index serves the lookup.

-- [SECTION] provider
CREATE TABLE provider (
  provider_id  uuid         NOT NULL,
  practice_id  uuid         NOT NULL,
  first_name   varchar(100) NOT NULL,
  last_name    varchar(100) NOT NULL,
  email        varchar(255) NOT NULL,
  specialties  jsonb        NOT NULL,
  modalities   jsonb        NOT NULL,
  availability jsonb        NOT NULL,
  experience   integer      NOT NULL,
  telehealth   boolean      NOT NULL,
  created_at   timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at   timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version  bigint       NOT NULL DEFAULT 1,
  deleted      boolean      NOT NULL DEFAULT false,
  CONSTRAINT provider_pkey PRIMARY KEY (provider_id),
  -- A practice is closed through retention, never by a cascading delete of its clinicians.
  CONSTRAINT provider_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE RESTRICT,
  CONSTRAINT provider_email_key UNIQUE (email),
  CONSTRAINT provider_first_name_not_blank CHECK (btrim(first_name) <> ''),
  CONSTRAINT provider_last_name_not_blank CHECK (btrim(last_name) <> ''),
  CONSTRAINT provider_email_format CHECK (email ~ '^[a-z0-9!#$%&''*+/=?^_`{|}~.-]{1,64}@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$'),
  CONSTRAINT provider_specialties_array CHECK (jsonb_typeof(specialties) = 'array'),
  CONSTRAINT provider_modalities_array CHECK (jsonb_typeof(modalities) = 'array'),
  CONSTRAINT provider_availability_structured CHECK (jsonb_typeof(availability) IN ('object', 'array')),
  CONSTRAINT provider_experience_range CHECK (experience BETWEEN 0 AND 80)
);
CREATE INDEX provider_practice_id_idx ON provider (practice_id);
-- Seed index "provider.email": the UNIQUE constraint's index.
-- Seed "composite index on practice_id and specialties": a GIN index over both columns (uuid
-- equality in GIN comes from btree_gin), so "practice X, specialties @> '["anxiety"]'" uses it.
CREATE INDEX provider_practice_specialties_idx ON provider USING gin (practice_id, specialties);

-- [SECTION] patient
-- Encrypted columns: see the header. Ciphertext caps allow the seed's limits (100 characters of
-- up to 4 bytes for names, 255 for email, 20 for phone) plus pgcrypto's ~65 bytes of framing.
CREATE TABLE patient (
  patient_id     uuid      NOT NULL,
  first_name     bytea     NOT NULL,  -- seed VARCHAR(100); pgcrypto ciphertext
  last_name      bytea     NOT NULL,  -- seed VARCHAR(100); pgcrypto ciphertext
  email          bytea     NOT NULL,  -- seed VARCHAR(255) UNIQUE; ciphertext, uniqueness on email_hash
  phone          bytea     NOT NULL,  -- seed VARCHAR(20); pgcrypto ciphertext
  date_of_birth  bytea     NOT NULL,  -- seed DATE; ciphertext of YYYY-MM-DD
  insurance_info jsonb     NOT NULL,  -- payer and plan only; identifying numbers in insurance_ids
  preferences    bytea     NOT NULL,  -- seed JSONB; ciphertext of the JSON (concerns are PHI)
  created_at     timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at     timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  email_hash     bytea     NOT NULL,  -- added: HMAC-SHA256 of the lower-cased email
  insurance_ids  bytea,               -- added: ciphertext of {"member_id", "group_number"}
  row_version    bigint    NOT NULL DEFAULT 1,
  deleted        boolean   NOT NULL DEFAULT false,
  CONSTRAINT patient_pkey PRIMARY KEY (patient_id),
  CONSTRAINT patient_email_hash_key UNIQUE (email_hash),
  CONSTRAINT patient_email_hash_length CHECK (octet_length(email_hash) = 32),
  CONSTRAINT patient_first_name_ciphertext CHECK (octet_length(first_name) BETWEEN 40 AND 600),
  CONSTRAINT patient_last_name_ciphertext CHECK (octet_length(last_name) BETWEEN 40 AND 600),
  CONSTRAINT patient_email_ciphertext CHECK (octet_length(email) BETWEEN 40 AND 400),
  CONSTRAINT patient_phone_ciphertext CHECK (octet_length(phone) BETWEEN 40 AND 120),
  CONSTRAINT patient_date_of_birth_ciphertext CHECK (octet_length(date_of_birth) BETWEEN 40 AND 120),
  CONSTRAINT patient_preferences_ciphertext CHECK (octet_length(preferences) BETWEEN 40 AND 65536),
  CONSTRAINT patient_insurance_ids_ciphertext CHECK (insurance_ids IS NULL OR octet_length(insurance_ids) BETWEEN 40 AND 1024),
  CONSTRAINT patient_insurance_info_object CHECK (jsonb_typeof(insurance_info) = 'object'),
  CONSTRAINT patient_insurance_info_no_identifiers
    CHECK (NOT (insurance_info ?| ARRAY['member_id', 'group_number', 'subscriber_id', 'policy_number', 'ssn']))
);
CREATE INDEX patient_insurance_info_gin_idx ON patient USING gin (insurance_info);
-- Seed index "patient.email": the unique index patient_email_hash_key.

-- [SECTION] practice_patient (added)
-- Which practices serve a patient. Row-level security shows a practice only its linked patients.
-- Rows appear automatically when a practice inserts a patient, a waitlist entry, an appointment
-- or a request for a patient (0004_security.sql). The foreign key to patient is deferred so the
-- link can be made in the BEFORE INSERT trigger of the patient row itself.
CREATE TABLE practice_patient (
  practice_id uuid      NOT NULL,
  patient_id  uuid      NOT NULL,
  linked_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  CONSTRAINT practice_patient_pkey PRIMARY KEY (practice_id, patient_id),
  -- A link means nothing without either side: it goes with them.
  CONSTRAINT practice_patient_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE CASCADE,
  CONSTRAINT practice_patient_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES patient (patient_id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX practice_patient_patient_id_idx ON practice_patient (patient_id);

-- [SECTION] waitlist
CREATE TABLE waitlist (
  waitlist_id uuid         NOT NULL,
  practice_id uuid         NOT NULL,
  name        varchar(255) NOT NULL,
  description text,
  criteria    jsonb        NOT NULL,
  created_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at  timestamp    NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version bigint       NOT NULL DEFAULT 1,
  deleted     boolean      NOT NULL DEFAULT false,
  CONSTRAINT waitlist_pkey PRIMARY KEY (waitlist_id),
  CONSTRAINT waitlist_practice_id_fkey FOREIGN KEY (practice_id) REFERENCES practice (practice_id) ON DELETE RESTRICT,
  CONSTRAINT waitlist_name_not_blank CHECK (btrim(name) <> ''),
  CONSTRAINT waitlist_description_length CHECK (description IS NULL OR length(description) <= 4000),
  CONSTRAINT waitlist_criteria_object CHECK (jsonb_typeof(criteria) = 'object')
);
CREATE INDEX waitlist_practice_id_idx ON waitlist (practice_id);

-- [SECTION] waitlist_entry
CREATE TABLE waitlist_entry (
  entry_id       uuid             NOT NULL,
  waitlist_id    uuid             NOT NULL,
  patient_id     uuid             NOT NULL,
  provider_id    uuid,
  priority_score double precision NOT NULL,
  status         varchar(50)      NOT NULL,
  notes          text,
  created_at     timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at     timestamp        NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  urgency        integer          NOT NULL DEFAULT 0,  -- added: clinical urgency set by staff
  urgency_set_by text,                                 -- added: the staff id that set it
  row_version    bigint           NOT NULL DEFAULT 1,
  deleted        boolean          NOT NULL DEFAULT false,
  CONSTRAINT waitlist_entry_pkey PRIMARY KEY (entry_id),
  -- Entries are the record of who waited and how long: a waitlist with entries is retired
  -- (tombstoned), not deleted; retention removes the entries first.
  CONSTRAINT waitlist_entry_waitlist_id_fkey FOREIGN KEY (waitlist_id) REFERENCES waitlist (waitlist_id) ON DELETE RESTRICT,
  CONSTRAINT waitlist_entry_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES patient (patient_id) ON DELETE RESTRICT,
  -- Only a preference: a provider who leaves must not take the patient's place in line.
  CONSTRAINT waitlist_entry_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (provider_id) ON DELETE SET NULL,
  CONSTRAINT waitlist_entry_status_valid CHECK (status IN ('waiting', 'offered', 'scheduled', 'removed')),
  -- NaN and infinities would break ordering by priority.
  CONSTRAINT waitlist_entry_priority_score_finite CHECK (priority_score BETWEEN -1e9 AND 1e9),
  CONSTRAINT waitlist_entry_urgency_range CHECK (urgency BETWEEN 0 AND 3),
  CONSTRAINT waitlist_entry_urgency_set_by_length CHECK (urgency_set_by IS NULL OR length(urgency_set_by) BETWEEN 1 AND 64),
  CONSTRAINT waitlist_entry_notes_length CHECK (notes IS NULL OR length(notes) <= 4000)
);
CREATE INDEX waitlist_entry_waitlist_id_idx ON waitlist_entry (waitlist_id);
CREATE INDEX waitlist_entry_patient_id_idx ON waitlist_entry (patient_id);
CREATE INDEX waitlist_entry_provider_id_idx ON waitlist_entry (provider_id);
CREATE INDEX waitlist_entry_priority_score_idx ON waitlist_entry (priority_score);
CREATE INDEX waitlist_entry_status_idx ON waitlist_entry (status);
-- One active (waiting or offered) entry per patient per waitlist.
CREATE UNIQUE INDEX waitlist_entry_one_active ON waitlist_entry (waitlist_id, patient_id)
  WHERE status IN ('waiting', 'offered') AND NOT deleted;

-- [SECTION] appointment_slot
CREATE TABLE appointment_slot (
  slot_id     uuid        NOT NULL,
  provider_id uuid        NOT NULL,
  start_time  timestamp   NOT NULL,
  end_time    timestamp   NOT NULL,
  status      varchar(50) NOT NULL,
  created_at  timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at  timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version bigint      NOT NULL DEFAULT 1,
  deleted     boolean     NOT NULL DEFAULT false,
  CONSTRAINT appointment_slot_pkey PRIMARY KEY (slot_id),
  CONSTRAINT appointment_slot_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (provider_id) ON DELETE RESTRICT,
  CONSTRAINT appointment_slot_status_valid CHECK (status IN ('open', 'held', 'booked', 'blocked')),
  CONSTRAINT appointment_slot_end_after_start CHECK (end_time > start_time),
  CONSTRAINT appointment_slot_at_most_one_day CHECK (end_time - start_time <= interval '24 hours'),
  -- No two live slots of one provider overlap; touching ends are fine ([start, end)).
  CONSTRAINT appointment_slot_no_overlap EXCLUDE USING gist
    (provider_id WITH =, tsrange(start_time, end_time) WITH &&) WHERE (NOT deleted)
);
CREATE INDEX appointment_slot_provider_id_idx ON appointment_slot (provider_id);
CREATE INDEX appointment_slot_start_time_idx ON appointment_slot (start_time);
CREATE INDEX appointment_slot_provider_status_idx ON appointment_slot (provider_id, status);

-- [SECTION] appointment_request
CREATE TABLE appointment_request (
  request_id          uuid        NOT NULL,
  patient_id          uuid        NOT NULL,
  provider_id         uuid        NOT NULL,
  waitlist_entry_id   uuid,
  appointment_slot_id uuid        NOT NULL,
  status              varchar(50) NOT NULL,
  requested_time      timestamp   NOT NULL,
  notes               text,
  created_at          timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at          timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version         bigint      NOT NULL DEFAULT 1,
  deleted             boolean     NOT NULL DEFAULT false,
  CONSTRAINT appointment_request_pkey PRIMARY KEY (request_id),
  CONSTRAINT appointment_request_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES patient (patient_id) ON DELETE RESTRICT,
  CONSTRAINT appointment_request_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (provider_id) ON DELETE RESTRICT,
  -- The request stands on its own once made; losing the entry only loses the back-reference.
  CONSTRAINT appointment_request_waitlist_entry_id_fkey FOREIGN KEY (waitlist_entry_id) REFERENCES waitlist_entry (entry_id) ON DELETE SET NULL,
  -- A slot someone asked for is kept while the request exists (retention removes requests first).
  CONSTRAINT appointment_request_appointment_slot_id_fkey FOREIGN KEY (appointment_slot_id) REFERENCES appointment_slot (slot_id) ON DELETE RESTRICT,
  CONSTRAINT appointment_request_status_valid
    CHECK (status IN ('pending', 'offered', 'accepted', 'confirmed', 'rejected', 'declined', 'expired', 'cancelled')),
  CONSTRAINT appointment_request_notes_length CHECK (notes IS NULL OR length(notes) <= 4000)
);
CREATE INDEX appointment_request_patient_id_idx ON appointment_request (patient_id);
CREATE INDEX appointment_request_provider_id_idx ON appointment_request (provider_id);
CREATE INDEX appointment_request_appointment_slot_id_idx ON appointment_request (appointment_slot_id);
CREATE INDEX appointment_request_status_idx ON appointment_request (status);

-- [SECTION] appointment
CREATE TABLE appointment (
  appointment_id    uuid        NOT NULL,
  provider_id       uuid        NOT NULL,
  patient_id        uuid        NOT NULL,
  waitlist_entry_id uuid,
  start_time        timestamp   NOT NULL,
  end_time          timestamp   NOT NULL,
  status            varchar(50) NOT NULL,
  type              varchar(50) NOT NULL,
  notes             text,
  created_at        timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at        timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version       bigint      NOT NULL DEFAULT 1,
  deleted           boolean     NOT NULL DEFAULT false,
  CONSTRAINT appointment_pkey PRIMARY KEY (appointment_id),
  CONSTRAINT appointment_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (provider_id) ON DELETE RESTRICT,
  CONSTRAINT appointment_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES patient (patient_id) ON DELETE RESTRICT,
  CONSTRAINT appointment_waitlist_entry_id_fkey FOREIGN KEY (waitlist_entry_id) REFERENCES waitlist_entry (entry_id) ON DELETE SET NULL,
  CONSTRAINT appointment_status_valid
    CHECK (status IN ('scheduled', 'checked_in', 'in_session', 'completed', 'cancelled', 'no_show')),
  CONSTRAINT appointment_type_valid CHECK (type IN ('in_person', 'telehealth')),
  CONSTRAINT appointment_end_after_start CHECK (end_time > start_time),
  CONSTRAINT appointment_at_most_one_day CHECK (end_time - start_time <= interval '24 hours'),
  CONSTRAINT appointment_notes_length CHECK (notes IS NULL OR length(notes) <= 4000),
  -- A provider is in one place at a time: live, non-cancelled appointments never overlap.
  CONSTRAINT appointment_no_overlap EXCLUDE USING gist
    (provider_id WITH =, tsrange(start_time, end_time) WITH &&) WHERE (status <> 'cancelled' AND NOT deleted)
);
CREATE INDEX appointment_provider_id_idx ON appointment (provider_id);
CREATE INDEX appointment_patient_id_idx ON appointment (patient_id);
CREATE INDEX appointment_start_time_idx ON appointment (start_time);
CREATE INDEX appointment_status_idx ON appointment (status);

-- [SECTION] notification
-- recipient_id names a patient, a provider, or for front_desk the practice itself or one of its
-- staff users; it has no foreign key because it points at different tables by recipient_type.
CREATE TABLE notification (
  notification_id uuid        NOT NULL,
  recipient_id    uuid        NOT NULL,
  recipient_type  varchar(50) NOT NULL,
  type            varchar(50) NOT NULL,
  content         jsonb       NOT NULL,
  status          varchar(50) NOT NULL,
  sent_at         timestamp,
  read_at         timestamp,
  created_at      timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  updated_at      timestamp   NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
  row_version     bigint      NOT NULL DEFAULT 1,
  deleted         boolean     NOT NULL DEFAULT false,
  CONSTRAINT notification_pkey PRIMARY KEY (notification_id),
  CONSTRAINT notification_recipient_type_valid CHECK (recipient_type IN ('patient', 'provider', 'front_desk')),
  -- Types grow with features (model NotificationType); only their shape is fixed here.
  CONSTRAINT notification_type_format CHECK (type ~ '^[a-z][a-z0-9_]{0,49}$'),
  CONSTRAINT notification_status_valid
    CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed', 'cancelled')),
  CONSTRAINT notification_content_object CHECK (jsonb_typeof(content) = 'object'),
  CONSTRAINT notification_read_after_sent CHECK (read_at IS NULL OR sent_at IS NULL OR read_at >= sent_at)
);
CREATE INDEX notification_recipient_idx ON notification (recipient_id, recipient_type);
CREATE INDEX notification_status_idx ON notification (status);
