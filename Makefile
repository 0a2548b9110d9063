# workitem: PGXS build. `make demo` and `make test` set everything up
# (tools/), so they must work before pg_config exists.
EXTENSION = workitem
MODULE_big = workitem
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
# Each release's SQL is kept in parts, one file per concern: extension/1.0.0/
# builds the base install script, each later extension/X.Y.Z/ the upgrade
# script from the release before. The first release is frozen; CREATE
# EXTENSION runs the base script and then the upgrades, so a fresh install
# and an upgraded one are the same thing.
INSTALL_SQL = extension/workitem--1.0.0.sql
UPGRADE_SQL = extension/workitem--1.0.0--1.1.0.sql
DATA = $(INSTALL_SQL) $(UPGRADE_SQL)
EXTRA_CLEAN = $(INSTALL_SQL) $(UPGRADE_SQL)
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

all: $(INSTALL_SQL) $(UPGRADE_SQL)
$(INSTALL_SQL): $(sort $(wildcard extension/1.0.0/*.sql))
	{ printf '%s\n' '-- workitem 1.0.0 install script, built from extension/1.0.0/*.sql' \
	  '\echo Use "CREATE EXTENSION workitem" to load this file. \quit'; cat $^; } > $@
$(UPGRADE_SQL): $(sort $(wildcard extension/1.1.0/*.sql))
	{ printf '%s\n' '-- workitem 1.0.0 to 1.1.0, built from extension/1.1.0/*.sql' \
	  '\echo Use "ALTER EXTENSION workitem UPDATE" to load this file. \quit'; cat $^; } > $@

.PHONY: demo test bench prove
demo:
	tools/demo.sh
test:
	tools/test.sh
bench:
	tools/bench.sh
prove:
	pg_prove --ext .sql -r test/
