-- 0008_sync_performance: the same rules as before, in forms PostgreSQL plans well (issue 9's
-- benchmark targets, issue 10). Forward-only; nothing here changes who sees or may write what.
--
--   notification_practice   0006 put the policy behind notification_visible(), a SECURITY DEFINER
--                           function with a SET clause: PostgreSQL cannot inline it, so every row
--                           a query touches paid a function call with a settings save and
--                           restore (about 50 us: a 500-row pull page spent 24 ms in it, a
--                           50,000-row first sync 2.5 s). The policy is now written out, so its
--                           EXISTS tests become hashed subplans (the practice's providers or
--                           linked patients read once per query); only the staff ids, which the
--                           reporting role may not read from staff_user, come from a SECURITY
--                           DEFINER function, once per query.

SET LOCAL ROLE anteroom_owner;

-- [SECTION] notification visibility, index-friendly
-- The ids of the working practice's staff, and nothing else: what the notification policy needs
-- from staff_user (PIN hashes stay unreadable to reporting). Empty with no practice set.
CREATE FUNCTION practice_staff_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, public
  AS $$
    SELECT s.staff_id FROM staff_user s WHERE s.practice_id = current_practice_id()
  $$;

-- The rule of 0004/0006, unchanged: a provider's notification is seen by the provider's
-- practice, a patient's by every practice linked to the patient, anything else by the practice
-- it names or the practice of the staff member it names.
DROP POLICY notification_practice ON notification;
CREATE POLICY notification_practice ON notification
  USING (CASE recipient_type
           WHEN 'provider' THEN EXISTS (SELECT 1 FROM provider p
                                        WHERE p.provider_id = notification.recipient_id
                                          AND p.practice_id = current_practice_id())
           WHEN 'patient' THEN EXISTS (SELECT 1 FROM practice_patient pp
                                       WHERE pp.patient_id = notification.recipient_id
                                         AND pp.practice_id = current_practice_id())
           ELSE notification.recipient_id = current_practice_id()
                OR notification.recipient_id IN (SELECT practice_staff_ids())
         END);

RESET ROLE;
ALTER FUNCTION practice_staff_ids() OWNER TO anteroom_internal;
REVOKE ALL ON FUNCTION practice_staff_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION practice_staff_ids() TO anteroom_owner, anteroom_hub, anteroom_reporting;
