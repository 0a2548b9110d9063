------------------------------------------------------------------------
-- Work time (issue 16): timers that track time by themselves, time
-- entries that can be changed and deleted until the item is closed,
-- products and expenses, and a view per item and day for billing.
-- The rules live in C (src/worktime.c): the triggers hold a plain INSERT,
-- UPDATE or DELETE to them, and log every change.
------------------------------------------------------------------------

-- A category whose timer starts by itself when an item is started or
-- assigned (the ticketing product's default: the timer runs while the
-- technician works on the ticket).
ALTER TABLE workitem.category_config ADD COLUMN auto_timer boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN workitem.category_config.auto_timer IS
    'Start the assignee''s timer when an item of this kind and category is started or assigned.';

-- Entries a timer made; hand-typed ones stay false. Only the engine (a
-- stopped timer) or the table's owner sets it.
ALTER TABLE workitem.time_entry ADD COLUMN tracked boolean NOT NULL DEFAULT false;
-- Write-only, like item.change_actor: who makes this entry or change when
-- the setting workitem.actor cannot tell (log_time() sets it on Citus,
-- where the trigger runs on a node the setting does not reach). The
-- trigger logs it as the actor and clears it.
ALTER TABLE workitem.time_entry ADD COLUMN change_actor text;
-- a plain INSERT carries the session's actor (Citus evaluates the default
-- on the coordinator); set apart, so that no row gets it as a stored value
ALTER TABLE workitem.time_entry ALTER COLUMN change_actor SET DEFAULT workitem.actor();
COMMENT ON COLUMN workitem.time_entry.tracked IS
    'true: made by a timer (start_timer/stop_timer, or stopped by the engine); false: typed by hand.';

-- Changing and deleting entries: checked and logged, frozen once the item is closed.
CREATE FUNCTION workitem.on_time_entry_change() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_on_time_entry_change' LANGUAGE C;
CREATE TRIGGER zz_workitem_on_time_entry_change
    BEFORE UPDATE OR DELETE ON workitem.time_entry
    FOR EACH ROW EXECUTE FUNCTION workitem.on_time_entry_change();

-- Running timers: one row per item and resource while it runs (the
-- primary key is the unique index that lets one run at a time). Written
-- by the C code as the schema's owner; agents read it.
CREATE TABLE workitem.timer (
    item_id     bigint NOT NULL,
    resource    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    started_by  text NOT NULL,
    auto        boolean NOT NULL DEFAULT false,
    -- the item's (the C code writes it); keys with the tenant, for Citus
    tenant      text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant(),
    CONSTRAINT timer_pkey PRIMARY KEY (item_id, resource, tenant),
    CONSTRAINT timer_item_id_fkey FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant)
);
COMMENT ON TABLE workitem.timer IS
    'Running timers, one per item and resource; stop_timer() (or the engine) turns one into a tracked time entry.';
-- run_timers() finds the timers over workitem.timer_max_running by their start
CREATE INDEX timer_started_idx ON workitem.timer (started_at);
SELECT pg_catalog.pg_extension_config_dump('workitem.timer', '');

CREATE FUNCTION workitem.start_timer(id bigint, resource text DEFAULT NULL)
    RETURNS workitem.timer AS 'MODULE_PATHNAME', 'workitem_start_timer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.start_timer(bigint, text) IS
    'Starts the timer of resource (default: the actor) on the item; returns the running timer (the same one when it already runs).';
CREATE FUNCTION workitem.stop_timer(id bigint, resource text DEFAULT NULL)
    RETURNS workitem.time_entry AS 'MODULE_PATHNAME', 'workitem_stop_timer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.stop_timer(bigint, text) IS
    'Stops the running timer of resource (default: the actor) on the item; returns the tracked time entry (NULL when no time passed).';
-- Citus: start_timer() and stop_timer() run these on the node of the
-- item's shard (distribute() makes them distributed functions delegated by
-- the tenant), with the caller's resource and actor.
CREATE FUNCTION workitem.start_timer_on(tenant text, id bigint, resource text, actor text)
    RETURNS workitem.timer AS 'MODULE_PATHNAME', 'workitem_start_timer_on' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.start_timer_on(text, bigint, text, text) IS
    'Citus: start_timer() on the node of the item''s shard (start_timer() calls it); refused on plain PostgreSQL.';
CREATE FUNCTION workitem.stop_timer_on(tenant text, id bigint, resource text, actor text)
    RETURNS workitem.time_entry AS 'MODULE_PATHNAME', 'workitem_stop_timer_on' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.stop_timer_on(text, bigint, text, text) IS
    'Citus: stop_timer() on the node of the item''s shard (stop_timer() calls it); refused on plain PostgreSQL.';

------------------------------------------------------------------------
-- Products and expenses
------------------------------------------------------------------------
CREATE TYPE workitem.expense_kind AS ENUM ('product', 'expense');

CREATE TABLE workitem.expense (
    id          bigint GENERATED BY DEFAULT AS IDENTITY,
    item_id     bigint NOT NULL,
    kind        workitem.expense_kind NOT NULL DEFAULT 'expense',
    description text NOT NULL,
    quantity    numeric NOT NULL CONSTRAINT expense_quantity_positive CHECK (quantity > 0),
    unit_price  numeric NOT NULL CONSTRAINT expense_unit_price_not_negative CHECK (unit_price >= 0),
    currency    text COLLATE "C" NOT NULL CONSTRAINT expense_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    at          timestamptz NOT NULL DEFAULT now(),
    author      text NOT NULL,
    -- the item's (add_expense() writes it; the foreign key holds a plain INSERT to it)
    tenant      text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant(),
    CONSTRAINT expense_pkey PRIMARY KEY (id, tenant),
    CONSTRAINT expense_item_id_fkey FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant),
    -- write-only: the actor the log names (add_expense() on Citus; a plain
    -- INSERT's default, evaluated there on the coordinator), as time_entry.change_actor
    change_actor text DEFAULT workitem.actor()
);
COMMENT ON TABLE workitem.expense IS
    'Products and expenses of an item (amount = quantity x unit_price, in currency); checked and logged by workitem.on_expense().';
CREATE INDEX expense_item_idx ON workitem.expense (item_id, at);
SELECT pg_catalog.pg_extension_config_dump('workitem.expense', '');
SELECT pg_catalog.pg_extension_config_dump('workitem.expense_id_seq', '');

CREATE FUNCTION workitem.on_expense() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_on_expense' LANGUAGE C;
CREATE TRIGGER zz_workitem_on_expense
    BEFORE INSERT OR UPDATE OR DELETE ON workitem.expense
    FOR EACH ROW EXECUTE FUNCTION workitem.on_expense();

CREATE FUNCTION workitem.add_expense(id bigint, kind workitem.expense_kind, description text,
                                     quantity numeric, unit_price numeric, currency text,
                                     at timestamptz DEFAULT NULL, author text DEFAULT NULL)
    RETURNS workitem.expense AS 'MODULE_PATHNAME', 'workitem_add_expense' LANGUAGE C VOLATILE;

------------------------------------------------------------------------
-- Per item and day (in the session's TimeZone), for billing and BI: one
-- row of time (currency NULL) and one row per currency of products and
-- expenses, so that sums over the rows never count anything twice.
------------------------------------------------------------------------
CREATE VIEW workitem.work_per_day AS
    SELECT t.item_id, t.started_at::date AS day, NULL::text COLLATE "C" AS currency,
           COALESCE(sum(t.duration) FILTER (WHERE t.tracked), interval '0') AS time_tracked,
           COALESCE(sum(t.duration) FILTER (WHERE NOT t.tracked), interval '0') AS time_typed,
           count(*) AS time_entries,
           NULL::numeric AS products, NULL::numeric AS expenses, NULL::bigint AS expense_lines,
           pg_catalog.date_part('epoch', COALESCE(sum(t.duration) FILTER (WHERE t.tracked), interval '0'))
               / 3600 AS time_tracked_hours,
           pg_catalog.date_part('epoch', COALESCE(sum(t.duration) FILTER (WHERE NOT t.tracked), interval '0'))
               / 3600 AS time_typed_hours
    FROM workitem.time_entry t
    GROUP BY t.item_id, t.started_at::date
    UNION ALL
    SELECT e.item_id, e.at::date, e.currency, NULL, NULL, NULL,
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'product'), 0),
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'expense'), 0),
           count(*), NULL, NULL
    FROM workitem.expense e
    GROUP BY e.item_id, e.at::date, e.currency;
COMMENT ON VIEW workitem.work_per_day IS
    'Per item and day: time tracked by timers and typed by hand (row with currency NULL), products and expenses per currency.';
COMMENT ON COLUMN workitem.work_per_day.item_id IS 'The item (bigint).';
COMMENT ON COLUMN workitem.work_per_day.day IS 'The day (date, session time zone): of the time entry''s start, of the expense.';
COMMENT ON COLUMN workitem.work_per_day.currency IS 'NULL on the row of time; the ISO 4217 code (text) on a row of products and expenses.';
COMMENT ON COLUMN workitem.work_per_day.time_tracked IS 'Time counted by timers (interval; NULL on a row of money).';
COMMENT ON COLUMN workitem.work_per_day.time_typed IS 'Time entered by hand (interval; NULL on a row of money).';
COMMENT ON COLUMN workitem.work_per_day.time_entries IS 'Number of time entries that day (bigint).';
COMMENT ON COLUMN workitem.work_per_day.products IS 'Sum of quantity x unit_price of products in this currency (numeric; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.expenses IS 'Sum of quantity x unit_price of expenses in this currency (numeric; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.expense_lines IS 'Number of products and expenses (bigint; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.time_tracked_hours IS 'time_tracked in hours (double precision).';
COMMENT ON COLUMN workitem.work_per_day.time_typed_hours IS 'time_typed in hours (double precision).';
