# workitem: PGXS build. `make demo` and `make test` set everything up
# (tools/), so they must work before pg_config exists.
EXTENSION = workitem
MODULE_big = workitem
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
DATA = $(wildcard extension/workitem--*.sql)
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

.PHONY: demo test bench prove
demo:
	tools/demo.sh
test:
	tools/test.sh
bench:
	tools/bench.sh
prove:
	pg_prove --ext .sql -r test/
