# workitem: PGXS build. `make demo` and `make test` set everything up
# (tools/), so they must work before pg_config exists.
EXTENSION = workitem
MODULE_big = workitem
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
# The install script is built from extension/parts/ (one file per concern);
# upgrade scripts (workitem--A--B.sql) are kept as written.
INSTALL_SQL = extension/workitem--1.0.0.sql
DATA = $(INSTALL_SQL) $(filter-out $(INSTALL_SQL),$(wildcard extension/workitem--*--*.sql))
EXTRA_CLEAN = $(INSTALL_SQL)
REGRESS = $(sort $(patsubst sql/%.sql,%,$(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif

# Prefer PostgreSQL 15 (the target) when it is installed.
ifeq ($(origin PG_CONFIG),undefined)
PG_CONFIG := $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

all: $(INSTALL_SQL)
$(INSTALL_SQL): $(sort $(wildcard extension/parts/*.sql))
	{ printf '%s\n' '-- workitem 1.0.0 install script, built from extension/parts/*.sql' \
	  '\echo Use "CREATE EXTENSION workitem" to load this file. \quit'; cat $^; } > $@

.PHONY: demo test bench prove
demo:
	tools/demo.sh
test:
	tools/test.sh
bench:
	tools/bench.sh
prove:
	pg_prove --ext .sql -r test/
