-- Checks on configured times. A target in working time cannot be in
-- months or years (a month of working time has no fixed length): refused
-- when the policy is written, not at every submission that matches it.
-- NOT VALID: an upgrade with such a row still goes through; the row
-- fails as before until fixed.
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_no_months
    CHECK (working_time IS NULL
           OR (pg_catalog.date_part('month', working_time) = 0
               AND pg_catalog.date_part('year', working_time) = 0)) NOT VALID;

-- PostgreSQL 17 has infinite intervals: no working time, window or
-- duration may be one (isfinite() is always true on 13 to 16).
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_finite
    CHECK (working_time IS NULL OR pg_catalog.isfinite(working_time)) NOT VALID;
ALTER TABLE workitem.category_config ADD CONSTRAINT category_config_feedback_window_finite
    CHECK (feedback_window IS NULL OR pg_catalog.isfinite(feedback_window)) NOT VALID;
ALTER TABLE workitem.item ADD CONSTRAINT item_feedback_window_finite
    CHECK (feedback_window IS NULL OR pg_catalog.isfinite(feedback_window)) NOT VALID;
ALTER TABLE workitem.time_entry ADD CONSTRAINT time_entry_duration_finite
    CHECK (pg_catalog.isfinite(duration)) NOT VALID;
