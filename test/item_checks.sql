-- The invariants of workitem.item as one CHECK (issue 13, src/checks.c):
-- the 17 constraints it replaces, written out here as they were, must
-- agree with it on every row, and a row that breaks one is refused under
-- that one's name, on every write path.
BEGIN;
SELECT plan(6);

-- The former constraints, by name, as SQL: NULL passes, as in a CHECK.
CREATE TEMP TABLE rules (name text, expr text);
INSERT INTO rules VALUES
 ('item_action_has_case', $$(kind = 'action') = (case_id IS NOT NULL)$$),
 ('item_action_never_draft', $$kind <> 'action' OR status <> 'draft'$$),
 ('item_change_reason_transient', $$change_reason IS NULL$$),
 ('item_close_if_no_reply_needs_days', $$NOT close_if_no_reply OR (wait_type = 'more_info' AND wait_until IS NOT NULL)$$),
 ('item_closed_has_closed_at', $$(status = 'closed') = (closed_at IS NOT NULL)$$),
 ('item_days_to_wait_positive', $$days_to_wait IS NULL OR days_to_wait > 0$$),
 ('item_feedback_window_finite', $$feedback_window IS NULL OR isfinite(feedback_window)$$),
 ('item_feedback_window_not_negative', $$feedback_window IS NULL OR feedback_window >= interval '0'$$),
 ('item_first_resolution_kept', $$resolved_at IS NULL OR first_resolved_at IS NOT NULL$$),
 ('item_follow_up_has_time', $$wait_type IS DISTINCT FROM 'follow_up' OR wait_until IS NOT NULL$$),
 ('item_in_progress_assigned', $$status <> 'in_progress' OR assignee IS NOT NULL$$),
 ('item_not_own_parent', $$parent_id <> id AND merged_into <> id AND case_id <> id AND follows_id <> id$$),
 ('item_resolution_by_kind', $$resolution IS NULL
    OR (kind = 'ticket' AND resolution IN ('customer_response', 'no_customer_response', 'rejected', 'spam',
                                          'unknown_sender', 'merged', 'split_completed', 'completed'))
    OR (kind = 'case' AND resolution IN ('completed', 'cancelled', 'merged'))
    OR (kind = 'action' AND resolution IN ('completed', 'unable_to_complete', 'cancelled'))$$),
 ('item_resolution_iff_done', $$(status IN ('resolved', 'closed')) = (resolution IS NOT NULL)$$),
 ('item_resolved_has_resolved_at', $$status NOT IN ('resolved', 'closed') OR resolved_at IS NOT NULL$$),
 ('item_wait_type_by_kind', $$wait_type IS NULL
    OR (kind = 'ticket' AND wait_type IN ('more_info', 'follow_up', 'split', 'case_launched'))
    OR (kind = 'case' AND wait_type IN ('more_info', 'follow_up', 'paused'))
    OR (kind = 'action' AND wait_type IN ('more_info', 'follow_up'))$$),
 ('item_wait_type_iff_waiting', $$(status = 'waiting') = (wait_type IS NOT NULL)$$);

-- Random rows, each column NULL or not, equal to id or not, ...
SELECT setseed(0.13);
CREATE TEMP TABLE r AS
SELECT n AS id,
       (enum_range(NULL::workitem.kind))[1 + floor(random() * 3)::int] AS kind,
       (enum_range(NULL::workitem.status))[1 + floor(random() * 6)::int] AS status,
       CASE WHEN random() < 0.4 THEN NULL ELSE (enum_range(NULL::workitem.wait_type))[1 + floor(random() * 5)::int] END AS wait_type,
       CASE WHEN random() < 0.5 THEN NULL ELSE now() END AS wait_until,
       random() < 0.3 AS close_if_no_reply,
       CASE WHEN random() < 0.4 THEN NULL ELSE (enum_range(NULL::workitem.resolution))[1 + floor(random() * 10)::int] END AS resolution,
       CASE WHEN random() < 0.5 THEN NULL WHEN random() < 0.9 THEN n + 1 ELSE n END AS case_id,
       CASE WHEN random() < 0.7 THEN NULL WHEN random() < 0.9 THEN n + 1 ELSE n END AS parent_id,
       CASE WHEN random() < 0.7 THEN NULL WHEN random() < 0.9 THEN n + 1 ELSE n END AS merged_into,
       CASE WHEN random() < 0.7 THEN NULL WHEN random() < 0.9 THEN n + 1 ELSE n END AS follows_id,
       CASE WHEN random() < 0.3 THEN NULL ELSE 'x' END AS assignee,
       CASE WHEN random() < 0.5 THEN NULL ELSE now() END AS closed_at,
       CASE WHEN random() < 0.5 THEN NULL ELSE now() END AS resolved_at,
       CASE WHEN random() < 0.3 THEN NULL ELSE now() END AS first_resolved_at,
       CASE WHEN random() < 0.9 THEN NULL ELSE 'why' END AS change_reason,
       CASE WHEN random() < 0.5 THEN NULL ELSE floor(random() * 4)::int - 1 END AS days_to_wait,
       CASE WHEN random() < 0.5 THEN NULL ELSE (floor(random() * 4) - 1) * interval '1 day' END AS feedback_window
FROM generate_series(1, 8000) n;

-- What the function says: the rule it reports, or 'ok'.
CREATE FUNCTION pg_temp.verdict(x r) RETURNS text LANGUAGE plpgsql AS $$
DECLARE c text;
BEGIN
  PERFORM workitem.item_check(x.kind, x.status, x.wait_type, x.wait_until, x.close_if_no_reply, x.resolution,
                              x.id, x.case_id, x.parent_id, x.merged_into, x.follows_id, x.assignee, x.closed_at,
                              x.resolved_at, x.first_resolved_at, x.change_reason, x.days_to_wait, x.feedback_window);
  RETURN 'ok';
EXCEPTION WHEN check_violation THEN
  GET STACKED DIAGNOSTICS c = CONSTRAINT_NAME;
  RETURN c;
END $$;
-- What the former constraints say: the rules a row breaks.
CREATE FUNCTION pg_temp.broken(x r) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE k record; ok boolean; out text[] := '{}';
BEGIN
  FOR k IN SELECT * FROM rules LOOP
    EXECUTE 'SELECT ' || k.expr || ' FROM (SELECT ($1).*) s' INTO ok USING x;
    IF ok IS FALSE THEN out := out || k.name; END IF;
  END LOOP;
  RETURN out;
END $$;
CREATE TEMP TABLE v AS SELECT r.id, pg_temp.verdict(r) AS verdict, pg_temp.broken(r) AS broken FROM r;

SELECT is((SELECT count(*) FROM v WHERE (verdict = 'ok') <> (broken = '{}')), 0::bigint,
          'item_check() refuses exactly the rows one of the 17 former constraints refused');
SELECT is((SELECT count(*) FROM v WHERE verdict <> 'ok' AND NOT verdict = ANY (broken)), 0::bigint,
          'and names a rule the row breaks');
-- item_feedback_window_finite needs an infinite interval (PostgreSQL 17)
SELECT is((SELECT count(DISTINCT verdict) FROM v WHERE verdict <> 'ok'), 16::bigint,
          'every one of the other 16 rules was broken by some row and reported');
SELECT cmp_ok((SELECT count(*) FROM v WHERE verdict = 'ok'), '>', 20::bigint, 'and some pass');

-- On the table, with the trigger out of the way (replica mode), a row that
-- breaks a rule is refused under its name.
-- (on Citus, where the trigger runs on the workers, this SET LOCAL reaches
-- them only when asked to; a placeholder, without effect, elsewhere)
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$INSERT INTO workitem.item (kind, status, title) VALUES ('ticket', 'waiting', 'no wait type')$$,
                 '23514', 'new row for relation "item" violates check constraint "item_wait_type_iff_waiting"',
                 'replica mode, no trigger: the CHECK still refuses a waiting item without a wait type');
SELECT throws_ok($$INSERT INTO workitem.item (kind, status, title, resolution, resolved_at, first_resolved_at)
                   VALUES ('action', 'resolved', 'a', 'spam', now(), now())$$,
                 '23514', 'new row for relation "item" violates check constraint "item_action_has_case"',
                 'and an action without a case');

SELECT * FROM finish();
ROLLBACK;
