-- A target in working time cannot be in months or years (a month of
-- working time has no fixed length): refused when the policy is written,
-- not at every submission that matches it. NOT VALID: an upgrade with
-- such a row still goes through; the row fails as before until fixed.
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_no_months
    CHECK (working_time IS NULL
           OR (pg_catalog.date_part('month', working_time) = 0
               AND pg_catalog.date_part('year', working_time) = 0)) NOT VALID;
