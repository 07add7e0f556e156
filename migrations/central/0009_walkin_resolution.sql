-- 0009_walkin_resolution: staff resolve a walk-in held for review (issue 9; DESIGN.md 5.3).
-- Forward-only. 0007 queued the walk-in and held its mutations; this migration fixes who may
-- close a review and that closing it happens once:
--
--   hub role          may queue reviews and hold mutations (INSERT), no longer UPDATE them: only
--                     staff at the server ('anteroom-admin review resolve', as the superuser)
--                     decide who a walk-in is
--   resolution final  an open review is resolved once (linked, created or dismissed) and then
--                     never changes again, so a repeated resolve cannot release its held
--                     mutations a second time
--   linked names      a review resolved as 'linked' names the existing patient it was linked to
--   held while open   a mutation is held only under an open review: a push that read the review
--                     as open while staff resolved it is retried (40001) and then applies
--
-- The link itself (practice_patient, the id alias) and the release of the held mutations are
-- written by the resolving transaction as the superuser; the hub role still cannot INSERT a
-- link (0007) and has no function that links without the email, name and birth date match.

SET LOCAL ROLE anteroom_owner;

-- [SECTION] the hub queues, staff resolve
REVOKE UPDATE ON walkin_review, walkin_review_held FROM anteroom_hub;

-- [SECTION] a review is resolved once
-- NOT VALID is not needed: before this migration nothing could resolve a review.
ALTER TABLE walkin_review ADD CONSTRAINT walkin_review_linked_names_patient
  CHECK (status <> 'linked' OR existing_patient_id IS NOT NULL);

CREATE FUNCTION walkin_review_maintain() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF OLD.status <> 'open' AND ROW(NEW.status, NEW.resolved_at, NEW.resolved_by, NEW.existing_patient_id)
                               IS DISTINCT FROM ROW(OLD.status, OLD.resolved_at, OLD.resolved_by, OLD.existing_patient_id) THEN
    RAISE EXCEPTION 'row of relation "walkin_review" violates check constraint "walkin_review_resolution_final": the review was already resolved (%)', OLD.status
      USING ERRCODE = 'check_violation', CONSTRAINT = 'walkin_review_resolution_final', TABLE = 'walkin_review';
  END IF;
  -- What the device sent and where it came from are the record of the decision.
  NEW.practice_id := OLD.practice_id;
  NEW.device_id := OLD.device_id;
  NEW.local_patient_id := OLD.local_patient_id;
  NEW.mutation_id := OLD.mutation_id;
  NEW.payload := OLD.payload;
  NEW.created_at := OLD.created_at;
  RETURN NEW;
END
$$;
CREATE TRIGGER walkin_review_maintain BEFORE UPDATE ON walkin_review
  FOR EACH ROW EXECUTE FUNCTION walkin_review_maintain();
REVOKE ALL ON FUNCTION walkin_review_maintain() FROM PUBLIC;

-- [SECTION] held only while the review is open
-- The share lock waits for a resolution in progress (it holds the review FOR UPDATE), then sees
-- its outcome; a resolution that starts later waits for this push and releases what it held.
-- A serialization failure, so the hub retries the batch, which then finds the review resolved.
-- SECURITY DEFINER as the table's owner: the hub role may not lock reviews itself.
CREATE FUNCTION walkin_review_held_while_open() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
DECLARE
  state text;
BEGIN
  -- A review this practice cannot see (or none) is left to row-level security and the foreign key.
  SELECT r.status INTO state FROM walkin_review r WHERE r.review_id = NEW.review_id FOR SHARE;
  IF FOUND AND state <> 'open' THEN
    RAISE EXCEPTION 'walk-in review % is no longer open: apply the change again', NEW.review_id
      USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER walkin_review_held_while_open BEFORE INSERT ON walkin_review_held
  FOR EACH ROW EXECUTE FUNCTION walkin_review_held_while_open();
REVOKE ALL ON FUNCTION walkin_review_held_while_open() FROM PUBLIC;

RESET ROLE;
