-- Issue 18 (no wrap-around): an SLA target is turned into microseconds of
-- working time and added to the start of the clock. A target of 213503982
-- days overflowed and wrapped round into a due time in the past; the sums
-- are checked now (22008), and a target no calendar could reach is refused
-- when written (23514), not at every submission that matches its policy.
-- 100 years: far past any service level, far inside the calendars' range.
-- NOT VALID, as the other checks on configured times: an upgrade with such
-- a row still goes through.
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_at_most_100_years
    CHECK (working_time IS NULL OR working_time <= interval '36525 days') NOT VALID;
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_business_days_at_most_100_years
    CHECK (business_days IS NULL OR business_days <= 26089) NOT VALID;

COMMENT ON FUNCTION workitem.sla_label(bigint, text, timestamptz) IS
    'Due: 2026-11-30 16:30 CET (to the minute, in the session''s TimeZone), or while stopped: Due: paused 2 h 5 m before due date / after due date.';
