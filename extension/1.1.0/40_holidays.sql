
------------------------------------------------------------------------
-- Holiday import: the holidays of a calendar from an iCalendar feed
-- (RFC 5545), parsed in C (src/ics.c). A malformed feed is refused whole.
------------------------------------------------------------------------
CREATE FUNCTION workitem.import_holidays(calendar text, ics text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'workitem_import_holidays'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.import_holidays(text, text) IS
    'Loads the events of an iCalendar feed into workitem.calendar_holiday; returns the rows added.';
