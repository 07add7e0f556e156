-- 0004_sync_contract: the device's side of the sync contract (DESIGN.md 5.2-5.4).
-- * Outbox mutations carry `prior` (the values the changed columns had on the device before the
--   change; '{}' for an insert) and the schema version they were written under. Mutations
--   queued before this migration were written under version 3 and carry no prior values.
-- * sync_held keeps the newest server row for a record that still has local mutations pending;
--   the acknowledgement transaction applies it once they are gone.
-- * sync_conflict records the server's code beside its words.
-- * Uniqueness and references the server owns are no longer enforced here: a pull page must
--   never fail on a local UNIQUE (an e-mail moving between two records within one page) or on a
--   row whose parent the device does not hold (an appointment whose patient is outside the
--   data window, a patient that left the practice). The synced tables are rebuilt without
--   cross-entity foreign keys and without UNIQUE on e-mail; the one-active-entry index goes.
--   CHECK constraints on a row's own values stay: the central schema has the same ones.
-- SQLite 3.15 cannot drop a table constraint, so each table is copied into its new shape.
-- Old children are dropped before old parents so that no implicit DELETE breaks a reference.

ALTER TABLE outbox ADD COLUMN prior TEXT NOT NULL DEFAULT '{}';
ALTER TABLE outbox ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 3;

ALTER TABLE sync_conflict ADD COLUMN code TEXT NOT NULL DEFAULT '';

CREATE TABLE sync_held (
  entity      TEXT NOT NULL,
  entity_id   TEXT NOT NULL,
  op          TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'purge', 'leave')),
  row_version INTEGER NOT NULL,
  row         TEXT NOT NULL,
  held_at     TEXT NOT NULL,
  PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;

CREATE TABLE practice_v4 (
  practice_id TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  address     TEXT NOT NULL,
  phone       TEXT NOT NULL CHECK (length(phone) <= 20),
  email       TEXT NOT NULL CHECK (length(email) <= 255),
  settings    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO practice_v4 (practice_id, name, address, phone, email, settings, created_at, updated_at,
                         row_version, deleted)
  SELECT practice_id, name, address, phone, email, settings, created_at, updated_at, row_version, deleted
  FROM practice;

CREATE TABLE provider_v4 (
  provider_id  TEXT PRIMARY KEY NOT NULL,
  practice_id  TEXT NOT NULL,
  first_name   TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name    TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
  email        TEXT NOT NULL CHECK (length(email) <= 255),
  specialties  TEXT NOT NULL,
  modalities   TEXT NOT NULL,
  availability TEXT NOT NULL,
  experience   INTEGER NOT NULL CHECK (experience >= 0),
  telehealth   INTEGER NOT NULL CHECK (telehealth IN (0, 1)),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  row_version  INTEGER NOT NULL DEFAULT 0,
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO provider_v4 (provider_id, practice_id, first_name, last_name, email, specialties, modalities,
                         availability, experience, telehealth, created_at, updated_at, row_version, deleted)
  SELECT provider_id, practice_id, first_name, last_name, email, specialties, modalities, availability,
         experience, telehealth, created_at, updated_at, row_version, deleted
  FROM provider;

CREATE TABLE patient_v4 (
  patient_id     TEXT PRIMARY KEY NOT NULL,
  first_name     TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name      TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
  email          TEXT NOT NULL CHECK (length(email) <= 255),
  phone          TEXT NOT NULL CHECK (length(phone) <= 20),
  date_of_birth  TEXT NOT NULL CHECK (length(date_of_birth) = 10),
  insurance_info TEXT NOT NULL,
  preferences    TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  row_version    INTEGER NOT NULL DEFAULT 0,
  deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  -- Local only: case- and accent-folded last name, so "pena" finds "Peña".
  lookup_key     TEXT NOT NULL
);
INSERT INTO patient_v4 (patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info,
                        preferences, created_at, updated_at, row_version, deleted, lookup_key)
  SELECT patient_id, first_name, last_name, email, phone, date_of_birth, insurance_info, preferences,
         created_at, updated_at, row_version, deleted, lookup_key
  FROM patient;

CREATE TABLE waitlist_v4 (
  waitlist_id TEXT PRIMARY KEY NOT NULL,
  practice_id TEXT NOT NULL,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  description TEXT,
  criteria    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO waitlist_v4 (waitlist_id, practice_id, name, description, criteria, created_at, updated_at,
                         row_version, deleted)
  SELECT waitlist_id, practice_id, name, description, criteria, created_at, updated_at, row_version, deleted
  FROM waitlist;

CREATE TABLE waitlist_entry_v4 (
  entry_id       TEXT PRIMARY KEY NOT NULL,
  waitlist_id    TEXT NOT NULL,
  patient_id     TEXT NOT NULL,
  provider_id    TEXT,
  priority_score REAL NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'scheduled', 'removed')),
  notes          TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  row_version    INTEGER NOT NULL DEFAULT 0,
  deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  urgency        INTEGER NOT NULL DEFAULT 0 CHECK (urgency BETWEEN 0 AND 3),
  urgency_set_by TEXT
);
INSERT INTO waitlist_entry_v4 (entry_id, waitlist_id, patient_id, provider_id, priority_score, status, notes,
                               created_at, updated_at, row_version, deleted, urgency, urgency_set_by)
  SELECT entry_id, waitlist_id, patient_id, provider_id, priority_score, status, notes, created_at, updated_at,
         row_version, deleted, urgency, urgency_set_by
  FROM waitlist_entry;

CREATE TABLE appointment_slot_v4 (
  slot_id     TEXT PRIMARY KEY NOT NULL,
  provider_id TEXT NOT NULL,
  start_time  TEXT NOT NULL,
  end_time    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('open', 'held', 'booked', 'blocked')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  CHECK (end_time > start_time)
);
INSERT INTO appointment_slot_v4 (slot_id, provider_id, start_time, end_time, status, created_at, updated_at,
                                 row_version, deleted)
  SELECT slot_id, provider_id, start_time, end_time, status, created_at, updated_at, row_version, deleted
  FROM appointment_slot;

CREATE TABLE appointment_request_v4 (
  request_id          TEXT PRIMARY KEY NOT NULL,
  patient_id          TEXT NOT NULL,
  provider_id         TEXT NOT NULL,
  waitlist_entry_id   TEXT,
  appointment_slot_id TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('pending', 'offered', 'accepted', 'confirmed',
                                                      'rejected', 'declined', 'expired', 'cancelled')),
  requested_time      TEXT NOT NULL,
  notes               TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  row_version         INTEGER NOT NULL DEFAULT 0,
  deleted             INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO appointment_request_v4 (request_id, patient_id, provider_id, waitlist_entry_id, appointment_slot_id,
                                    status, requested_time, notes, created_at, updated_at, row_version, deleted)
  SELECT request_id, patient_id, provider_id, waitlist_entry_id, appointment_slot_id, status, requested_time,
         notes, created_at, updated_at, row_version, deleted
  FROM appointment_request;

CREATE TABLE appointment_v4 (
  appointment_id    TEXT PRIMARY KEY NOT NULL,
  provider_id       TEXT NOT NULL,
  patient_id        TEXT NOT NULL,
  waitlist_entry_id TEXT,
  start_time        TEXT NOT NULL,
  end_time          TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('scheduled', 'checked_in', 'in_session',
                                                    'completed', 'cancelled', 'no_show')),
  type              TEXT NOT NULL CHECK (type IN ('in_person', 'telehealth')),
  notes             TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  row_version       INTEGER NOT NULL DEFAULT 0,
  deleted           INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  CHECK (end_time > start_time)
);
INSERT INTO appointment_v4 (appointment_id, provider_id, patient_id, waitlist_entry_id, start_time, end_time,
                            status, type, notes, created_at, updated_at, row_version, deleted)
  SELECT appointment_id, provider_id, patient_id, waitlist_entry_id, start_time, end_time, status, type, notes,
         created_at, updated_at, row_version, deleted
  FROM appointment;

CREATE TABLE staff_user_v4 (
  staff_id     TEXT PRIMARY KEY NOT NULL,
  practice_id  TEXT NOT NULL,
  display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  role         TEXT NOT NULL CHECK (role IN ('front_desk', 'clinician', 'manager', 'admin')),
  pin_hash     TEXT NOT NULL,
  active       INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  row_version  INTEGER NOT NULL DEFAULT 0,
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
INSERT INTO staff_user_v4 (staff_id, practice_id, display_name, role, pin_hash, active, created_at, updated_at,
                           row_version, deleted)
  SELECT staff_id, practice_id, display_name, role, pin_hash, active, created_at, updated_at, row_version, deleted
  FROM staff_user;

-- Children first, then their parents.
DROP TABLE appointment;
DROP TABLE appointment_request;
DROP TABLE waitlist_entry;
DROP TABLE appointment_slot;
DROP TABLE staff_user;
DROP TABLE waitlist;
DROP TABLE provider;
DROP TABLE patient;
DROP TABLE practice;

ALTER TABLE practice_v4 RENAME TO practice;
ALTER TABLE provider_v4 RENAME TO provider;
ALTER TABLE patient_v4 RENAME TO patient;
ALTER TABLE waitlist_v4 RENAME TO waitlist;
ALTER TABLE waitlist_entry_v4 RENAME TO waitlist_entry;
ALTER TABLE appointment_slot_v4 RENAME TO appointment_slot;
ALTER TABLE appointment_request_v4 RENAME TO appointment_request;
ALTER TABLE appointment_v4 RENAME TO appointment;
ALTER TABLE staff_user_v4 RENAME TO staff_user;

-- The indexes of 0001 (less the one-active-entry index), and one for e-mail lookups, which
-- the UNIQUE constraint's index used to serve.
CREATE INDEX provider_practice_idx ON provider(practice_id);
CREATE INDEX patient_lookup_idx ON patient(date_of_birth, lookup_key);
CREATE INDEX patient_email_idx ON patient(email);
CREATE INDEX waitlist_practice_idx ON waitlist(practice_id);
CREATE INDEX waitlist_entry_waitlist_idx ON waitlist_entry(waitlist_id, status);
CREATE INDEX waitlist_entry_patient_idx ON waitlist_entry(patient_id);
CREATE INDEX appointment_slot_time_idx ON appointment_slot(start_time);
CREATE INDEX appointment_slot_provider_idx ON appointment_slot(provider_id, status);
CREATE INDEX appointment_request_patient_idx ON appointment_request(patient_id);
CREATE INDEX appointment_request_slot_idx ON appointment_request(appointment_slot_id);
CREATE INDEX appointment_time_idx ON appointment(start_time);
CREATE INDEX appointment_patient_idx ON appointment(patient_id, start_time);
CREATE INDEX appointment_provider_idx ON appointment(provider_id, start_time);
