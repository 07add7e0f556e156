-- Waitlist engine: clinical urgency on waitlist entries, set by staff only (never by the
-- patient's own screening). Additive; the central schema adds the same columns.
-- urgency: 0 routine, 1 urgent, 2 very urgent, 3 highest. urgency_set_by: staff id.
ALTER TABLE waitlist_entry ADD COLUMN urgency INTEGER NOT NULL DEFAULT 0 CHECK (urgency BETWEEN 0 AND 3);
ALTER TABLE waitlist_entry ADD COLUMN urgency_set_by TEXT;
