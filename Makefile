# tidewatch — public-opinion stream monitor
#
#   make                 build ./tidewatch
#   make test            build and run every test (ends with "N passed, N failed, N skipped");
#                        integration scripts TEST_JOBS at a time (default: the CPUs)
#   make SANITIZE=address,undefined test
#                        the same under AddressSanitizer and UBSan (build/san/)
#   make bench-match     matcher benchmark (normalise + match vs a naive baseline),
#                        then a post's CPU at 100k topics on real text
#                        (tests/bench/bench_pipeline.sh)
#   make bench-segment   discovery's Chinese segmentation: libfriso against
#                        lexicon-filtered character n-grams, speed and the
#                        names kept whole on hand-scored hot-search titles
#                        (WEIBO_DATA, THUOCL_DATA under ../shared/data)
#   make bench           bench-match, then the end-to-end benchmark
#                        (tests/bench/bench_e2e.sh: throughput vs a bare
#                        consumer, alert latency, Redis work per flush)
#   make bench-scale     the daemon at 1k, 10k and 100k topics (tests/bench/
#                        bench_scale.sh: compile time, RSS, drain rate,
#                        detector pass; BENCH_SCALE_SIZES="1000 10000",
#                        BENCH_SCALE_POSTS, BENCH_SCALE_TIMEOUT per size),
#                        then bench-rules
#   make bench-rules     loading 100k topics of 1M keywords (tests/bench/
#                        bench_rules.sh: check, load and compile time, the
#                        daemon's RSS and bytes per keyword)
#   make bench-web       the web view's overview of 1,000 topics: the API's
#                        time and Chromium's time to the drawn page
#                        (tests/bench/bench_web.sh; BENCH_WEB_TOPICS)
#   make fuzz            libFuzzer harnesses (clang), each for FUZZ_SECONDS (60),
#                        FUZZ_JOBS at a time (default: the CPUs)
#   make fuzz-regress    the harnesses once over tests/fuzz/{corpus,regress}/
#   make demo            the whole product on private servers (see README)
#   make eval            the detectors scored on NAB realTweets
#                        (NAB_DATA, default ../shared/data/nab-realtweets),
#                        separator skipping on real text (tests/eval/gaps.sh)
#                        traditional keyword spellings (tests/eval/variants.sh),
#                        distinct-text keys (tests/eval/textkey.sh),
#                        then bench-segment and discovery on the CrisisLex
#                        stream (tests/eval/discovery.sh)
#   make man             the man pages in $(BUILD)/man/ (also part of make)
#   make schemas         the JSON Schemas of rule files and of the config in
#                        $(BUILD)/share/tidewatch/ (also part of make)
#   make install         PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc
#   make uninstall       removes what make install put in place (an edited
#                        config or rule file stays)
#   make MALLOC=         link the daemon with glibc's malloc, not tcmalloc

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
DOCDIR     ?= $(PREFIX)/share/doc/tidewatch
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
WERROR     ?= 1
SANITIZE   ?=
OPT        ?= -O2
CC         ?= cc

PKGS := rdkafka yaml-0.1 libpcre2-8 hiredis libutf8proc opencc libcjson libmicrohttpd libsystemd libcurl friso
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
        -Wshadow -Wpointer-arith -Wformat=2 -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifneq ($(SANITIZE),)
BUILD    ?= build/san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT      := -O1 -g
else
BUILD    ?= build
SANFLAGS :=
endif

# The daemon's allocator.  librdkafka allocates each message in its broker
# thread and the consumer thread frees it; glibc's malloc makes that free
# wait on the broker thread's arena lock, tcmalloc does not (make bench
# runs the daemon with glibc and jemalloc too).  MALLOC= links glibc's; the
# sanitizers bring their own.
MALLOC ?= tcmalloc_minimal
ifneq ($(SANITIZE),)
MALLOC :=
endif

CPPFLAGS += -Iinclude -D_GNU_SOURCE
CFLAGS   += -std=c11 $(OPT) -g $(WARN) $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -lpthread

LIB_SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/web_assets.o

LIB      := $(BUILD)/libtidewatch.a
BIN      := $(BUILD)/tidewatch

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all man schemas test check-tests bench bench-match bench-segment bench-scale bench-rules bench-web demo eval install uninstall clean fuzz fuzz-regress FORCE
# keep objects of tests and tools between runs
.SECONDARY:
all: $(BIN) $(if $(SANITIZE),,tidewatch) man schemas

tidewatch: $(BIN)
	cp $(BIN) $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# SYSCONFDIR is compiled into the binary (the default -c and rules.paths):
# config.o is rebuilt whenever the value given to make changes.
SYSCONF_STAMP := $(BUILD)/sysconfdir.stamp
$(SYSCONF_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' >$@
$(BUILD)/daemon/config.o: CPPFLAGS += -DTW_SYSCONFDIR='"$(SYSCONFDIR)"'
$(BUILD)/daemon/config.o: $(SYSCONF_STAMP)
FORCE:

# The web view's page, script and style, embedded in the binary as a C
# file generated from web/ (web/embed.sh, with od): nothing is fetched at
# run time.
WEB_ASSETS := web/index.html web/app.css web/app.js web/icon.svg
$(BUILD)/gen/web_assets.c: web/embed.sh $(WEB_ASSETS)
	@mkdir -p $(dir $@)
	sh web/embed.sh $@ $(WEB_ASSETS)
$(BUILD)/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/daemon/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(if $(MALLOC),-l$(MALLOC))

# the daemon with glibc's malloc, for the allocator figures of make bench
$(BUILD)/bench/tidewatch-glibc: $(BUILD)/daemon/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# time what the daemon pays, so with the daemon's allocator
$(BUILD)/bench/bench_rules $(BUILD)/bench/bench_pipeline: $(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(if $(MALLOC),-l$(MALLOC))

test: $(BIN) $(UNIT_BINS) $(TOOL_BINS) man schemas
	@BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/run.sh

bench-match: $(BUILD)/bench/bench_match $(BUILD)/bench/bench_pipeline
	$(BUILD)/bench/bench_match
	BUILD=$(BUILD) sh tests/bench/bench_pipeline.sh

WEIBO_DATA  ?= ../shared/data/weibo-hot-search
THUOCL_DATA ?= ../shared/data/thuocl-lexicon
FRISO_DICT  ?= /usr/share/friso/dict/UTF-8
bench-segment: $(BUILD)/bench/bench_segment
	@if [ -d $(WEIBO_DATA) ] && [ -d $(THUOCL_DATA) ]; then \
	    $(BUILD)/bench/bench_segment $(WEIBO_DATA)/weibo_hot_search_first_seen_*.csv \
	        tests/data/hotsearch-terms.tsv $(THUOCL_DATA) $(FRISO_DICT); \
	else echo "SKIP bench-segment: $(WEIBO_DATA) or $(THUOCL_DATA) absent"; fi

bench: all $(TOOL_BINS) $(BENCH_BINS) $(BUILD)/bench/tidewatch-glibc
	@$(MAKE) --no-print-directory bench-match
	@$(MAKE) --no-print-directory bench-segment
	BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/bench/bench_backtest.sh
	BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/bench/bench_e2e.sh

bench-scale: all $(BUILD)/tests/kafka-mock $(BUILD)/tests/kafka-produce $(BUILD)/tests/freeport $(BUILD)/bench/bench_latency
	BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/bench/bench_scale.sh
	@$(MAKE) --no-print-directory bench-rules

bench-web: all $(BUILD)/tests/kafka-mock $(BUILD)/tests/kafka-produce $(BUILD)/tests/freeport
	BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/bench/bench_web.sh

bench-rules: all $(BUILD)/tests/kafka-mock $(BUILD)/tests/freeport $(BUILD)/bench/bench_rules
	BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/bench/bench_rules.sh

NAB_DATA ?= ../shared/data/nab-realtweets
eval: $(BIN) $(BUILD)/tests/nabeval $(BUILD)/tests/gapcorpus $(BUILD)/tests/cconv \
    $(BUILD)/tests/textkeyeval $(BUILD)/bench/bench_segment
	@$(BUILD)/tests/nabeval eval $(BIN) $(NAB_DATA) tests/eval/nab-detectors.tsv
	@BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/eval/gaps.sh
	@BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/eval/variants.sh
	@BUILD=$(BUILD) sh tests/eval/textkey.sh
	@$(MAKE) --no-print-directory bench-segment
	@BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/eval/discovery.sh

demo: all $(BUILD)/tests/kafka-mock $(BUILD)/tests/postgen $(BUILD)/tests/freeport $(BUILD)/tests/kafka-produce $(BUILD)/tests/webhook-sink
	@BUILD=$(BUILD) TIDEWATCH=$(BIN) sh tests/tools/demo.sh

# Man pages: tidewatch(1) and tidewatch-rules(5) are written by hand;
# tidewatch.yaml(5) is its template with the @CONFIG_KEYS@ line replaced by
# `tidewatch config --man`, one entry per key of the config table.
MAN_PAGES := $(BUILD)/man/tidewatch.1 $(BUILD)/man/tidewatch-rules.5 \
             $(BUILD)/man/tidewatch.yaml.5

man: $(MAN_PAGES)

$(BUILD)/man/tidewatch.yaml.5: deploy/tidewatch.yaml.5.in $(BIN)
	@mkdir -p $(dir $@)
	$(BIN) config --man >$@.keys
	sed -e '/^@CONFIG_KEYS@$$/{' -e 'r $@.keys' -e 'd' -e '}' \
	    deploy/tidewatch.yaml.5.in >$@.tmp
	rm -f $@.keys
	mv $@.tmp $@

$(BUILD)/man/%: deploy/%
	@mkdir -p $(dir $@)
	cp $< $@

# JSON Schemas (draft 2020-12) for editors: `tidewatch schema rules|config`,
# generated from the loaders' key tables, never kept in the repository.
SCHEMAS := $(BUILD)/share/tidewatch/rules.schema.json \
           $(BUILD)/share/tidewatch/config.schema.json

schemas: $(SCHEMAS)

$(BUILD)/share/tidewatch/%.schema.json: $(BIN)
	@mkdir -p $(dir $@)
	$(BIN) schema $* >$@.tmp
	mv $@.tmp $@

# The example config and rules go to $(SYSCONFDIR)/tidewatch only where no
# file of that name is there yet: an operator's edits are never overwritten.
# The files that name /etc/tidewatch/ or /usr/local/bin/tidewatch (the
# config's rules.paths, the unit) are installed with the paths of this
# install, and the binary has SYSCONFDIR compiled in.  The compose file goes
# to the docs without its build: section, which only works in the source
# tree.  Files are listed once, in INSTALL_DOCS etc., so that uninstall
# removes exactly them.  The rules' yaml-language-server line is pointed
# at the installed schema (RULES_SED).
INSTALL_DOCS := README.md deploy/redis.conf deploy/Dockerfile
INSTALL_MAN5 := tidewatch-rules.5 tidewatch.yaml.5
INSTALL_SED  := sed -e 's|/usr/local/bin/tidewatch|$(BINDIR)/tidewatch|g' \
                    -e 's|/etc/tidewatch/|$(SYSCONFDIR)/tidewatch/|g'
ETC          := $(DESTDIR)$(SYSCONFDIR)/tidewatch
RULES_SED    := sed -e '1s|$$schema=.*|$$schema=$(DATADIR)/tidewatch/rules.schema.json|'

install: $(BIN) man schemas
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(UNITDIR) $(ETC)/rules.d \
	    $(DESTDIR)$(DATADIR)/tidewatch
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/tidewatch
	install -m 644 $(SCHEMAS) $(DESTDIR)$(DATADIR)/tidewatch
	install -m 644 $(BUILD)/man/tidewatch.1 $(DESTDIR)$(MANDIR)/man1/tidewatch.1
	install -m 644 $(INSTALL_MAN5:%=$(BUILD)/man/%) $(DESTDIR)$(MANDIR)/man5
	$(INSTALL_SED) deploy/tidewatch.service >$(DESTDIR)$(UNITDIR)/tidewatch.service
	chmod 644 $(DESTDIR)$(UNITDIR)/tidewatch.service
	install -m 644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)
	sed -e '/^    # source tree only/,/^      dockerfile: /d' \
	    deploy/compose.yaml >$(DESTDIR)$(DOCDIR)/compose.yaml
	chmod 644 $(DESTDIR)$(DOCDIR)/compose.yaml
	install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)/docs
	$(INSTALL_SED) deploy/tidewatch.yaml >$(BUILD)/tidewatch.yaml.installed
	[ -e $(ETC)/tidewatch.yaml ] || \
	    install -m 644 $(BUILD)/tidewatch.yaml.installed $(ETC)/tidewatch.yaml
	for f in rules/*.yaml; do \
	    [ -e $(ETC)/rules.d/$${f#rules/} ] || \
	    { $(RULES_SED) $$f >$(ETC)/rules.d/$${f#rules/} && \
	    chmod 644 $(ETC)/rules.d/$${f#rules/}; } || exit 1; \
	done

# Removes what install put in place.  The config and rule files go only
# when they are still as installed (an operator's edits stay), and each
# directory only when it is left empty.
uninstall:
	@mkdir -p $(BUILD)
	rm -f $(DESTDIR)$(BINDIR)/tidewatch $(DESTDIR)$(MANDIR)/man1/tidewatch.1 \
	    $(INSTALL_MAN5:%=$(DESTDIR)$(MANDIR)/man5/%) \
	    $(DESTDIR)$(UNITDIR)/tidewatch.service \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS))) \
	    $(DESTDIR)$(DOCDIR)/compose.yaml \
	    $(patsubst docs/%,$(DESTDIR)$(DOCDIR)/docs/%,$(wildcard docs/*.md)) \
	    $(patsubst $(BUILD)/share/%,$(DESTDIR)$(DATADIR)/%,$(SCHEMAS))
	$(INSTALL_SED) deploy/tidewatch.yaml >$(BUILD)/tidewatch.yaml.installed
	! cmp -s $(BUILD)/tidewatch.yaml.installed $(ETC)/tidewatch.yaml || \
	    rm -f $(ETC)/tidewatch.yaml
	for f in rules/*.yaml; do \
	    ! $(RULES_SED) $$f | cmp -s - $(ETC)/rules.d/$${f#rules/} || \
	    rm -f $(ETC)/rules.d/$${f#rules/}; \
	done
	-rmdir $(ETC)/rules.d $(ETC) $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(DATADIR)/tidewatch 2>/dev/null

# Fuzzing: libFuzzer harnesses tests/fuzz/*-fuzzer.c built with clang under
# ASan and UBSan (objects in build/fuzz/, apart from the gcc build).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := address,undefined
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all \
                $(filter-out -Werror,$(WARN)) $(PKG_CFLAGS) -MMD -MP
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/*-fuzzer.c))

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_DIR)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_DIR)/libtidewatch.a: $(LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/web_assets.o
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/%-fuzzer: $(FUZZ_DIR)/obj/tests/fuzz/%-fuzzer.o $(FUZZ_DIR)/libtidewatch.a
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@FUZZ_DIR=$(FUZZ_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh fuzz

fuzz-regress: $(FUZZ_BINS)
	@FUZZ_DIR=$(FUZZ_DIR) sh tests/fuzz/run.sh regress

clean:
	rm -rf build tidewatch

-include $(shell find build -name '*.d' 2>/dev/null)
