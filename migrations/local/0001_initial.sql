-- 0001_initial: the kiosk's encrypted store.
-- The nine central entities keep the central column names (JSON columns as TEXT,
-- UUIDs as lower-case text, instants as fixed-width ISO-8601 UTC text, dates as
-- YYYY-MM-DD). Every synced row carries row_version (the server's version it
-- last saw; 0 = never seen by the server) and a tombstone flag.
-- Written for SQLite 3.15 (SQLCipher 3.4.1): no UPSERT, RETURNING, JSON1 or window functions.
-- Foreign keys are DEFERRABLE so a sync page can arrive in any order inside one transaction.

CREATE TABLE practice (
  practice_id TEXT PRIMARY KEY NOT NULL,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  address     TEXT NOT NULL,
  phone       TEXT NOT NULL CHECK (length(phone) <= 20),
  email       TEXT NOT NULL UNIQUE CHECK (length(email) <= 255),
  settings    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

CREATE TABLE provider (
  provider_id  TEXT PRIMARY KEY NOT NULL,
  practice_id  TEXT NOT NULL REFERENCES practice(practice_id) DEFERRABLE INITIALLY DEFERRED,
  first_name   TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name    TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
  email        TEXT NOT NULL UNIQUE CHECK (length(email) <= 255),
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
CREATE INDEX provider_practice_idx ON provider(practice_id);

CREATE TABLE patient (
  patient_id     TEXT PRIMARY KEY NOT NULL,
  first_name     TEXT NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
  last_name      TEXT NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
  email          TEXT NOT NULL UNIQUE CHECK (length(email) <= 255),
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
-- Check-in lookup: date of birth first (selective), then the folded last name.
CREATE INDEX patient_lookup_idx ON patient(date_of_birth, lookup_key);

CREATE TABLE waitlist (
  waitlist_id TEXT PRIMARY KEY NOT NULL,
  practice_id TEXT NOT NULL REFERENCES practice(practice_id) DEFERRABLE INITIALLY DEFERRED,
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  description TEXT,
  criteria    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX waitlist_practice_idx ON waitlist(practice_id);

CREATE TABLE waitlist_entry (
  entry_id       TEXT PRIMARY KEY NOT NULL,
  waitlist_id    TEXT NOT NULL REFERENCES waitlist(waitlist_id) DEFERRABLE INITIALLY DEFERRED,
  patient_id     TEXT NOT NULL REFERENCES patient(patient_id) DEFERRABLE INITIALLY DEFERRED,
  provider_id    TEXT REFERENCES provider(provider_id) DEFERRABLE INITIALLY DEFERRED,
  priority_score REAL NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'scheduled', 'removed')),
  notes          TEXT,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  row_version    INTEGER NOT NULL DEFAULT 0,
  deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX waitlist_entry_waitlist_idx ON waitlist_entry(waitlist_id, status);
CREATE INDEX waitlist_entry_patient_idx ON waitlist_entry(patient_id);
-- One active entry per patient per waitlist (as centrally).
CREATE UNIQUE INDEX waitlist_entry_one_active_idx ON waitlist_entry(waitlist_id, patient_id)
  WHERE status IN ('waiting', 'offered') AND deleted = 0;

CREATE TABLE appointment_slot (
  slot_id     TEXT PRIMARY KEY NOT NULL,
  provider_id TEXT NOT NULL REFERENCES provider(provider_id) DEFERRABLE INITIALLY DEFERRED,
  start_time  TEXT NOT NULL,
  end_time    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('open', 'held', 'booked', 'blocked')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  row_version INTEGER NOT NULL DEFAULT 0,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  CHECK (end_time > start_time)
);
CREATE INDEX appointment_slot_time_idx ON appointment_slot(start_time);
CREATE INDEX appointment_slot_provider_idx ON appointment_slot(provider_id, status);

CREATE TABLE appointment_request (
  request_id          TEXT PRIMARY KEY NOT NULL,
  patient_id          TEXT NOT NULL REFERENCES patient(patient_id) DEFERRABLE INITIALLY DEFERRED,
  provider_id         TEXT NOT NULL REFERENCES provider(provider_id) DEFERRABLE INITIALLY DEFERRED,
  waitlist_entry_id   TEXT REFERENCES waitlist_entry(entry_id) DEFERRABLE INITIALLY DEFERRED,
  appointment_slot_id TEXT NOT NULL REFERENCES appointment_slot(slot_id) DEFERRABLE INITIALLY DEFERRED,
  status              TEXT NOT NULL CHECK (status IN ('pending', 'offered', 'accepted', 'confirmed',
                                                      'rejected', 'declined', 'expired', 'cancelled')),
  requested_time      TEXT NOT NULL,
  notes               TEXT,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  row_version         INTEGER NOT NULL DEFAULT 0,
  deleted             INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX appointment_request_patient_idx ON appointment_request(patient_id);
CREATE INDEX appointment_request_slot_idx ON appointment_request(appointment_slot_id);

CREATE TABLE appointment (
  appointment_id    TEXT PRIMARY KEY NOT NULL,
  provider_id       TEXT NOT NULL REFERENCES provider(provider_id) DEFERRABLE INITIALLY DEFERRED,
  patient_id        TEXT NOT NULL REFERENCES patient(patient_id) DEFERRABLE INITIALLY DEFERRED,
  waitlist_entry_id TEXT REFERENCES waitlist_entry(entry_id) DEFERRABLE INITIALLY DEFERRED,
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
CREATE INDEX appointment_time_idx ON appointment(start_time);
CREATE INDEX appointment_patient_idx ON appointment(patient_id, start_time);
CREATE INDEX appointment_provider_idx ON appointment(provider_id, start_time);

CREATE TABLE notification (
  notification_id TEXT PRIMARY KEY NOT NULL,
  recipient_id    TEXT NOT NULL,
  recipient_type  TEXT NOT NULL CHECK (recipient_type IN ('patient', 'provider', 'front_desk')),
  type            TEXT NOT NULL,
  content         TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'read',
                                                  'failed', 'cancelled')),
  sent_at         TEXT,
  read_at         TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  row_version     INTEGER NOT NULL DEFAULT 0,
  deleted         INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX notification_recipient_idx ON notification(recipient_id, recipient_type);
CREATE INDEX notification_status_idx ON notification(status);

CREATE TABLE staff_user (
  staff_id     TEXT PRIMARY KEY NOT NULL,
  practice_id  TEXT NOT NULL REFERENCES practice(practice_id) DEFERRABLE INITIALLY DEFERRED,
  display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  role         TEXT NOT NULL CHECK (role IN ('front_desk', 'clinician', 'manager', 'admin')),
  pin_hash     TEXT NOT NULL,
  active       INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  row_version  INTEGER NOT NULL DEFAULT 0,
  deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

-- Local mutations waiting for the hub, in device order. Written by the storage API in
-- the same transaction as the domain change; rows applied from the server never enter.
CREATE TABLE outbox (
  device_seq   INTEGER PRIMARY KEY AUTOINCREMENT,
  mutation_id  TEXT NOT NULL UNIQUE,
  entity       TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('insert', 'update', 'delete')),
  changes      TEXT NOT NULL,
  base_version INTEGER NOT NULL,
  hlc          TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX outbox_entity_idx ON outbox(entity, entity_id);

-- Key/value state of the device and the sync daemon (device id, cursor, clock, last results).
CREATE TABLE sync_state (
  key        TEXT PRIMARY KEY NOT NULL,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Mutations the server refused or merged with a difference, for staff to review.
CREATE TABLE sync_conflict (
  conflict_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  mutation_id  TEXT NOT NULL,
  entity       TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  reason       TEXT NOT NULL,
  local_value  TEXT,
  server_value TEXT,
  created_at   TEXT NOT NULL,
  resolved_at  TEXT,
  resolved_by  TEXT
);
CREATE INDEX sync_conflict_open_idx ON sync_conflict(resolved_at);

-- Who did what to which record. Ids, actions and field names only: never PHI values.
CREATE TABLE audit_log (
  audit_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  at         TEXT NOT NULL,
  hlc        TEXT NOT NULL,
  actor_kind TEXT NOT NULL CHECK (actor_kind IN ('kiosk', 'staff', 'sync', 'admin')),
  actor_id   TEXT NOT NULL,
  action     TEXT NOT NULL,
  entity     TEXT NOT NULL,
  entity_id  TEXT NOT NULL,
  fields     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_entity_idx ON audit_log(entity, entity_id);
