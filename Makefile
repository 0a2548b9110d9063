# workitem: PGXS build. `make demo` and `make test` set everything up
# (tools/), so they must work before pg_config exists.
EXTENSION = workitem
MODULE_big = workitem
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
# extension/current/*.sql: the whole schema of the current version, one file
# per concern, joined in name order into the install script. extension/upgrade/:
# the 1.0.0 install script and every upgrade script since, frozen once released.
# A new release: bump default_version in workitem.control, add its upgrade
# script, edit the current parts.
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" workitem.control)
INSTALL_SQL = extension/workitem--$(EXTVERSION).sql
DATA = $(INSTALL_SQL) $(wildcard extension/upgrade/workitem--*.sql)
EXTRA_CLEAN = $(INSTALL_SQL)
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

all: $(INSTALL_SQL)
$(INSTALL_SQL): $(sort $(wildcard extension/current/*.sql)) workitem.control
	{ printf '%s\n' '-- workitem $(EXTVERSION) install script, built from extension/current/*.sql' \
	  '\echo Use "CREATE EXTENSION workitem" to load this file. \quit'; cat $(filter %.sql,$^); } > $@

.PHONY: demo test test-citus test-rt bench prove report
demo:
	tools/demo.sh
test:
	tools/test.sh
test-citus:
	tools/citus.sh
# Request Tracker 5 from Debian under workitem, alone (make test runs it too; RT_TEST=0 skips it there)
test-rt:
	RT_TEST=1 test/rt.sh
bench:
	tools/bench.sh
# a PNG dashboard from the views for BI tools, over the demo database
report:
	tools/report.sh
prove:
	pg_prove --ext .sql -r test/
