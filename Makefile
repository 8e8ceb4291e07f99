# ganctl — one non-recursive Makefile.
#
#   make            both binaries into build/
#   make run        install what is missing, build, start the daemon on 127.0.0.1:8080
#   make test       install what is missing, build, run every test (also under ASan+UBSan)
#   make bench      benchmarks against the reference baselines
#   make SAN=address | SAN=thread   sanitizer builds into build-address/ or build-thread/
#
# Sources are found by wildcard: a new core/foo.c or tests/unit/test_foo.c needs no edit here.

SAN ?=
BUILD := build$(if $(SAN),-$(SAN))
CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=

# libraries by part (core never sees HTTP, JSON or SQLite)
CORE_PKGS := openblas libpng zlib
DAEMON_PKGS := sqlite3 libpq libmicrohttpd jansson libsystemd ompi-c
CLI_PKGS := libcurl jansson
TEST_PKGS := cmocka

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ifneq ($(CI),)
WARN += -Werror
endif
OPT ?= -O2 -march=native
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(WARN) -MMD -MP -I. -pthread
LDFLAGS_BASE := -pthread

ifeq ($(SAN),address)
OPT := -O1 -march=native
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_BASE += -fsanitize=address,undefined
else ifeq ($(SAN),thread)
OPT := -O1 -march=native
CFLAGS_BASE += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_BASE += -fsanitize=thread
else ifneq ($(SAN),)
$(error SAN must be address or thread)
endif

# `make fuzz` builds everything again with clang into build-fuzz/: the code under test
# gets libFuzzer's coverage hooks plus ASan+UBSan, the fuzz_*.c drivers link libFuzzer.
ifneq ($(FUZZ),)
OPT := -O1 -march=native
CFLAGS_BASE += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=undefined
LDFLAGS_BASE += -fsanitize=address,undefined
endif

CFLAGS_ALL := $(CFLAGS_BASE) $(OPT) $(CFLAGS)

# `make run` and `make test` build on every core unless make was given its own -j (PAR
# is expanded in the recipe: only there does MAKEFLAGS hold that -j)
JOBS ?= $(shell nproc 2>/dev/null || echo 1)
PAR = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))

CORE_SRC := $(wildcard core/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
API_SRC := $(wildcard api/*.c)
CLI_SRC := $(wildcard cli/*.c)
UNIT_CORE_SRC := $(wildcard tests/unit/core/test_*.c)
UNIT_DAEMON_SRC := $(wildcard tests/unit/daemon/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

CORE_OBJ := $(call obj,$(CORE_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC))
API_OBJ := $(call obj,$(API_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))
UNIT_BIN := $(patsubst tests/unit/core/%.c,$(BUILD)/tests/%,$(UNIT_CORE_SRC)) \
            $(patsubst tests/unit/daemon/%.c,$(BUILD)/tests/%,$(UNIT_DAEMON_SRC))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

CORE_LIBS := $(call pc_libs,$(CORE_PKGS)) -lm
DAEMON_LIBS := $(call pc_libs,$(DAEMON_PKGS))
CLI_LIBS := $(call pc_libs,$(CLI_PKGS))

.SECONDARY:
.PHONY: FORCE all run test unit bench format clean install deps deps-test deps-bench tests fuzz fuzz-bins \
        check-layout
all: $(BUILD)/ganctld $(BUILD)/ganctl

$(BUILD)/obj/core/%.o: core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CORE_PKGS)) -c $< -o $@
$(BUILD)/obj/daemon/%.o: daemon/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CORE_PKGS) $(DAEMON_PKGS)) -c $< -o $@
$(BUILD)/obj/api/%.o: api/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CORE_PKGS) $(DAEMON_PKGS)) -c $< -o $@
$(BUILD)/obj/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CLI_PKGS)) -c $< -o $@
$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CORE_PKGS) $(DAEMON_PKGS) $(TEST_PKGS)) -c $< -o $@
$(BUILD)/obj/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(CORE_PKGS)) -c $< -o $@

$(BUILD)/libgccore.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

MIGRATIONS := $(sort $(wildcard migrations/*/*.sql))
$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-migrations.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-migrations.sh $@ migrations
$(BUILD)/obj/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# The OpenAPI document is a file of its own (the linter and client generators read it);
# the daemon serves it from a string built from it.
$(BUILD)/gen/openapi.c: api/openapi.json scripts/embed-openapi.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-openapi.sh $@ api/openapi.json
$(BUILD)/obj/gen/openapi.o: $(BUILD)/gen/openapi.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(call pc_cflags,$(DAEMON_PKGS)) -c $< -o $@

# The commit the daemon is built from, for the provenance of runs: the script runs on
# every make and rewrites the file only when the commit changed.
$(BUILD)/gen/version.c: FORCE
	@mkdir -p $(dir $@)
	@sh scripts/gen-version.sh $@
$(BUILD)/obj/gen/version.o: $(BUILD)/gen/version.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
FORCE:

$(BUILD)/libgcdaemon.a: $(DAEMON_OBJ) $(API_OBJ) $(BUILD)/obj/gen/migrations.o \
                        $(BUILD)/obj/gen/openapi.o $(BUILD)/obj/gen/version.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/ganctld: $(call obj,daemon/main.c) $(BUILD)/libgcdaemon.a $(BUILD)/libgccore.a
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(CORE_LIBS)

$(BUILD)/ganctl: $(CLI_OBJ)
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

# Unit tests: tests/unit/core/test_X.c links the core only; tests/unit/daemon/test_X.c
# links the daemon and api objects too (everything but main()). One cmocka binary each.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/core/%.o $(BUILD)/libgccore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(TEST_PKGS)) $(CORE_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/daemon/%.o $(BUILD)/libgcdaemon.a $(BUILD)/libgccore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(TEST_PKGS)) $(DAEMON_LIBS) $(CORE_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libgccore.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

tests: $(UNIT_BIN)

# Fuzz drivers: tests/fuzz/fuzz_X.c -> build-fuzz/fuzz_X, run by tests/fuzz/run.sh on a
# copy of the seed corpus tests/fuzz/corpus/X/ for FUZZ_SECONDS each.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 20
build-fuzz/fuzz_%: build-fuzz/obj/tests/fuzz/fuzz_%.o build-fuzz/libgcdaemon.a build-fuzz/libgccore.a
	$(CC) $(LDFLAGS_BASE) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(DAEMON_LIBS) $(CORE_LIBS)
fuzz-bins: $(FUZZ_BIN)
fuzz: deps-test
	@$(MAKE) --no-print-directory BUILD=build-fuzz FUZZ=1 CC=clang fuzz-bins
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test

deps-bench:
	@sh scripts/deps.sh bench

run: deps
	@$(MAKE) --no-print-directory $(PAR) all
	@mkdir -p var
	./build/ganctld --listen 127.0.0.1:8080 --data ./var

# Unit tests in the normal build and again under ASan+UBSan, then the integration
# suites against the normal build; tests/run.sh prints the one summary line. The
# checkers (tests/checkers.sh) need the TSan build and build-valgrind/ (no AVX-512,
# which valgrind lacks); the fuzz suite needs build-fuzz/.
test: deps-test
	@$(MAKE) --no-print-directory $(PAR) all tests
	@$(MAKE) --no-print-directory $(PAR) SAN=address all tests
	@$(MAKE) --no-print-directory $(PAR) SAN=thread all tests
	@$(MAKE) --no-print-directory $(PAR) BUILD=build-valgrind OPT="-O2 -march=haswell" tests
	@$(MAKE) --no-print-directory $(PAR) BUILD=build-fuzz FUZZ=1 CC=clang fuzz-bins
	@sh tests/run.sh

# The layering (which part may include what), every header compiling on its own, and
# the 900-line limit on source files: scripts/check-layout.sh, a suite of make test.
check-layout:
	@CC="$(CC)" CFLAGS="$(CFLAGS_BASE) $(OPT) $(CFLAGS)" \
	 CORE_CFLAGS="$(call pc_cflags,$(CORE_PKGS))" \
	 DAEMON_CFLAGS="$(call pc_cflags,$(CORE_PKGS) $(DAEMON_PKGS))" \
	 CLI_CFLAGS="$(call pc_cflags,$(CLI_PKGS))" sh scripts/check-layout.sh

unit: all tests
	@sh tests/run.sh --unit-only

bench: deps-bench
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@sh bench/run.sh

format:
	clang-format -i $(wildcard core/*.[ch] daemon/*.[ch] api/*.[ch] cli/*.[ch] tests/unit/*/*.[ch] bench/*.c)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ganctl/web $(DESTDIR)/etc/systemd/system
	install -m 0755 build/ganctld build/ganctl $(DESTDIR)$(PREFIX)/bin/
	cp -r web/. $(DESTDIR)$(PREFIX)/share/ganctl/web/
	install -d $(DESTDIR)$(PREFIX)/share/ganctl/migrations/sqlite \
	           $(DESTDIR)$(PREFIX)/share/ganctl/migrations/postgres
	install -m 0644 migrations/sqlite/*.sql $(DESTDIR)$(PREFIX)/share/ganctl/migrations/sqlite/
	install -m 0644 migrations/postgres/*.sql $(DESTDIR)$(PREFIX)/share/ganctl/migrations/postgres/
	install -m 0644 ganctl.service $(DESTDIR)/etc/systemd/system/ganctl.service
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)/usr/share/bash-completion/completions
	install -m 0644 cli/ganctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/ganctl.1
	install -m 0644 cli/ganctl.bash-completion $(DESTDIR)/usr/share/bash-completion/completions/ganctl

clean:
	rm -rf build build-address build-thread build-fuzz build-valgrind

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
