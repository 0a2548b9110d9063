-- Due work for run_timers(), shared by test/timers.py and bench/timers.sh.
-- Category 'due' (feedback window 1 day, 1 day to wait, tickets and cases);
-- pg_temp.make_due(n) adds n items through the real trigger, all due within
-- 3 days: a quarter each (by id % 4) waiting follow_up (1 hour), waiting
-- more_info (1 day), waiting more_info with close_if_no_reply (cases too:
-- they come back instead), resolved. A fifth are cases, a third assigned
-- to 'agent'. Plain SQL (no psql commands), in the caller's session.
INSERT INTO workitem.category_config (kind, category, feedback_window, days_to_wait)
VALUES ('ticket', 'due', '1 day', 1), ('case', 'due', '1 day', 1);

CREATE FUNCTION pg_temp.make_due(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE lo bigint := coalesce((SELECT max(id) FROM workitem.item), 0);
BEGIN
  INSERT INTO workitem.item (kind, status, title, description, category, primary_contact, requester, assignee)
  SELECT CASE WHEN g % 5 = 0 THEN 'case' ELSE 'ticket' END::workitem.kind, 'to_do', 'Item ' || g,
         'due', 'due', 'c@x', 'c@x', CASE WHEN g % 3 = 0 THEN 'agent' END
    FROM generate_series(1, n) g;
  UPDATE workitem.item SET status = 'waiting', wait_type = 'follow_up', wait_until = now() + interval '1 hour'
   WHERE id > lo AND id % 4 = 0;
  UPDATE workitem.item SET status = 'waiting', wait_type = 'more_info', wait_until = now() + interval '1 day'
   WHERE id > lo AND id % 4 = 1;
  UPDATE workitem.item SET status = 'waiting', wait_type = 'more_info', wait_until = now() + interval '1 day',
         close_if_no_reply = true WHERE id > lo AND id % 4 = 2;
  UPDATE workitem.item SET status = 'resolved',
         resolution = CASE kind WHEN 'case' THEN 'completed' ELSE 'customer_response' END::workitem.resolution
   WHERE id > lo AND id % 4 = 3;
END $$;
