# Virtuoso, checked against Linux: one non-recursive Makefile.
#
#   make            build bin/virtuoso
#   make main       the main job on the default workload (datasets/workloads/default.json)
#   make test       build and run every Criterion test (tests/<folder>/test_<module>.c)
#   make bench      build and run the benchmarks, printing rates and ratios to goals
#   make deps       install the Debian packages that are missing (scripts/deps.sh)
#   make V=1        show the commands
#
# Generated files go under build/ (objects, test binaries, BPF objects and
# skeletons) and bin/ (the tool).

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g

ifeq ($(V),1)
Q =
else
Q = @
endif

# pkg-config where a package ships a .pc file; libpfm4's Debian package does not.
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null || echo $(2))

CJSON_CFLAGS := $(call pc_cflags,libcjson)
CJSON_LIBS := $(call pc_libs,libcjson,-lcjson)
CRITERION_CFLAGS := $(call pc_cflags,criterion)
CRITERION_LIBS := $(call pc_libs,criterion,-lcriterion)
LIBBPF_CFLAGS := $(call pc_cflags,libbpf)
LIBBPF_LIBS := $(call pc_libs,libbpf,-lbpf -lelf -lz)
LIBPFM_CFLAGS := $(call pc_cflags,libpfm)
LIBPFM_LIBS := $(call pc_libs,libpfm,-lpfm)
ZSTD_LIBS := $(call pc_libs,libzstd,-lzstd)

WARNINGS = -Wall -Wextra -Werror -Wstrict-prototypes -Wvla -Wshadow
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARNINGS) -I. -Ibuild $(CJSON_CFLAGS) $(CFLAGS)
LDLIBS = $(CJSON_LIBS) $(LIBBPF_LIBS) $(LIBPFM_LIBS) $(ZSTD_LIBS) -lnlopt -lm

# ---- shared by both worlds: spec, generator, executor, event model and log ----
LIB_OBJS += build/workload/error.o
LIB_OBJS += build/workload/evlog.o
LIB_OBJS += build/workload/gen.o
LIB_OBJS += build/workload/json.o
LIB_OBJS += build/workload/kernel.o
LIB_OBJS += build/workload/native.o
LIB_OBJS += build/workload/perm.o
LIB_OBJS += build/workload/side.o
LIB_OBJS += build/workload/size.o
LIB_OBJS += build/workload/spec.o
LIB_OBJS += build/workload/spec_json.o
LIB_OBJS += build/workload/tlbev.o
LIB_OBJS += build/workload/zipf.o

# ---- the Linux side: probe loaders, counters, /proc and sysfs readers ---------
LIB_OBJS += build/linux-probes/backing.o
LIB_OBJS += build/linux-probes/counters.o
LIB_OBJS += build/linux-probes/hostid.o
LIB_OBJS += build/linux-probes/hostlock.o
LIB_OBJS += build/linux-probes/hoststat.o
LIB_OBJS += build/linux-probes/prewarm.o
LIB_OBJS += build/linux-probes/runner.o
LIB_OBJS += build/linux-probes/thp_sysfs.o
LIB_OBJS += build/linux-probes/vmtrace.o

# ---- MimicOS: Linux memory management in userspace (issue 4) ---------------------
LIB_OBJS += build/mimicos/channel.o
LIB_OBJS += build/mimicos/channel_config.o
LIB_OBJS += build/mimicos/channel_transport.o
LIB_OBJS += build/mimicos/huge_memory.o
LIB_OBJS += build/mimicos/khugepaged.o
LIB_OBJS += build/mimicos/memory.o
LIB_OBJS += build/mimicos/mmap.o
LIB_OBJS += build/mimicos/page_alloc.o
LIB_OBJS += build/mimicos/pgtable.o
LIB_OBJS += build/mimicos/reservation.o
LIB_OBJS += build/mimicos/swap.o
LIB_OBJS += build/mimicos/tlb.o
LIB_OBJS += build/mimicos/vmstat.o

# ---- the simulator (issue 5): MMU, caches, DRAM, core; the driver ------------------
LIB_OBJS += build/simulator/cache.o
LIB_OBJS += build/simulator/config.o
LIB_OBJS += build/simulator/core.o
LIB_OBJS += build/simulator/dram.o
LIB_OBJS += build/simulator/driver.o
LIB_OBJS += build/simulator/hwinfo.o
LIB_OBJS += build/simulator/memsys.o
LIB_OBJS += build/simulator/mmu.o
LIB_OBJS += build/simulator/stats.o
LIB_OBJS += build/simulator/timing.o

# ---- the comparison: divergence per mechanism, tolerances, verdicts -------------
LIB_OBJS += build/compare/compare.o
LIB_OBJS += build/compare/distance.o
LIB_OBJS += build/compare/faultkind.o
LIB_OBJS += build/compare/gate.o
LIB_OBJS += build/compare/side_load.o
LIB_OBJS += build/compare/tolerance.o

# ---- calibration: the host's microbenchmarks (over both worlds) -----------------
LIB_OBJS += build/calibrate/fit.o
LIB_OBJS += build/calibrate/latency_specs.o
LIB_OBJS += build/calibrate/measure.o
LIB_OBJS += build/calibrate/store.o

# ---- reports: report.md and report.html (gnuplot SVG plots) --------------------
LIB_OBJS += build/reports/calibration.o
LIB_OBJS += build/reports/plot.o
LIB_OBJS += build/reports/report.o
LIB_OBJS += build/reports/suite.o
LIB_OBJS += build/reports/validation.o

# ---- the command line ---------------------------------------------------------
CLI_OBJS += build/cli/cal_latency.o
CLI_OBJS += build/cli/cmd_calibrate.o
CLI_OBJS += build/cli/cmd_check.o
CLI_OBJS += build/cli/cmd_compare.o
CLI_OBJS += build/cli/cmd_dump.o
CLI_OBJS += build/cli/cmd_exec.o
CLI_OBJS += build/cli/cmd_gen.o
CLI_OBJS += build/cli/cmd_hwinfo.o
CLI_OBJS += build/cli/cmd_linux.o
CLI_OBJS += build/cli/cmd_record.o
CLI_OBJS += build/cli/cmd_run.o
CLI_OBJS += build/cli/cmd_validate.o
CLI_OBJS += build/cli/cmd_sweep.o
CLI_OBJS += build/cli/cmd_sim.o
CLI_OBJS += build/cli/virtuoso.o
CLI_OBJS += build/cli/xval.o

# ---- tests: one binary per tests/<folder>/test_<module>.c --------------------
TESTS += build/tests/calibrate/test_fit
TESTS += build/tests/calibrate/test_latency
TESTS += build/tests/calibrate/test_measure
TESTS += build/tests/calibrate/test_store
TESTS += build/tests/cli/test_cal_latency
TESTS += build/tests/cli/test_cli
TESTS += build/tests/cli/test_record
TESTS += build/tests/cli/test_replay
TESTS += build/tests/cli/test_sweep
TESTS += build/tests/cli/test_run
TESTS += build/tests/cli/test_validate
TESTS += build/tests/cli/test_gate
TESTS += build/tests/cli/test_xval
TESTS += build/tests/build/test_layering
TESTS += build/tests/compare/test_compare
TESTS += build/tests/compare/test_gate
TESTS += build/tests/compare/test_side
TESTS += build/tests/compare/test_tlb
TESTS += build/tests/compare/test_verdicts
TESTS += build/tests/docs/test_docs
TESTS += build/tests/linux-probes/test_backing
TESTS += build/tests/linux-probes/test_counters
TESTS += build/tests/linux-probes/test_hostid
TESTS += build/tests/linux-probes/test_hostlock
TESTS += build/tests/linux-probes/test_linux
TESTS += build/tests/linux-probes/test_thp_sysfs
TESTS += build/tests/mimicos/test_channel
TESTS += build/tests/mimicos/test_huge_memory
TESTS += build/tests/mimicos/test_khugepaged
TESTS += build/tests/mimicos/test_memory
TESTS += build/tests/mimicos/test_mmap
TESTS += build/tests/mimicos/test_page_alloc
TESTS += build/tests/mimicos/test_pgtable
TESTS += build/tests/mimicos/test_reservation
TESTS += build/tests/mimicos/test_swap
TESTS += build/tests/mimicos/test_tlb
TESTS += build/tests/mimicos/test_zap
TESTS += build/tests/reports/test_calibration
TESTS += build/tests/reports/test_report
TESTS += build/tests/reports/test_suite
TESTS += build/tests/reports/test_validation
TESTS += build/tests/simulator/test_cache
TESTS += build/tests/simulator/test_config
TESTS += build/tests/simulator/test_core
TESTS += build/tests/simulator/test_dram
TESTS += build/tests/simulator/test_driver
TESTS += build/tests/simulator/test_hwinfo
TESTS += build/tests/simulator/test_memsys
TESTS += build/tests/simulator/test_mmu
TESTS += build/tests/simulator/test_timing
TESTS += build/tests/workload/test_evlog
TESTS += build/tests/workload/test_gen
TESTS += build/tests/workload/test_kernel
TESTS += build/tests/workload/test_native
TESTS += build/tests/workload/test_prng
TESTS += build/tests/workload/test_size
TESTS += build/tests/workload/test_spec

BENCHES += build/bench/bench_cache
BENCHES += build/bench/bench_gen
BENCHES += build/bench/bench_linux
BENCHES += build/bench/bench_mimicos
BENCHES += build/bench/bench_sim

# ---- eBPF: bpf/<p>.bpf.c -> build/bpf/<p>.bpf.o -> build/bpf/<p>.skel.h -----------
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(patsubst bpf/%.bpf.c,build/bpf/%.skel.h,$(BPF_SRCS))
# Keep the BPF objects between the two steps (only these: a bare .SECONDARY
# would stop make from building a newly listed object into an existing archive).
.SECONDARY: $(patsubst bpf/%.bpf.c,build/bpf/%.bpf.o,$(BPF_SRCS))

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_DESC := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: all main test bench gate deps clean
.DELETE_ON_ERROR:

all: bin/virtuoso

build/libvirtuoso.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

bin/virtuoso: $(CLI_OBJS) build/libvirtuoso.a
	@mkdir -p $(@D)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) build/libvirtuoso.a $(LDLIBS)

build/cli/virtuoso.o: ALL_CFLAGS += -DVIRTUOSO_VERSION='"$(VERSION)"' -DVIRTUOSO_GIT='"$(GIT_DESC)"'
# the commit is part of every file's provenance: rebuilt when it changes
build/git-desc: FORCE
	@mkdir -p build; echo '$(GIT_DESC)' | cmp -s - $@ || echo '$(GIT_DESC)' > $@
build/cli/virtuoso.o: build/git-desc
FORCE:
build/cli/virtuoso.o: VERSION

# The skeleton must exist before anything that includes it compiles (an
# order-only prerequisite: the -MMD dependencies say who really includes it),
# and it is kept: a deleted intermediate would be made again, and everything
# rebuilt, by the next make.
.SECONDARY: $(BPF_SKELS) $(TESTS:%=%.o)

build/%.o: %.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# A test's object apart from its link, so suites compile in parallel and a
# library change relinks them without recompiling.
build/tests/%.o: tests/%.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CRITERION_CFLAGS) -MMD -MP -c -o $@ $<

build/tests/%: build/tests/%.o build/libvirtuoso.a
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< build/libvirtuoso.a $(CRITERION_LIBS) $(LDLIBS)

# test_xval and test_cal_latency call the command line's functions: its objects, virtuoso.c's
# main renamed so that Criterion's runs the suite
build/tests/cli/virtuoso-nomain.o: cli/virtuoso.c VERSION build/git-desc | $(BPF_SKELS)
	@mkdir -p $(@D)
	@echo "  CC      $< (no main)"
	$(Q)$(CC) $(ALL_CFLAGS) -Dmain=virtuoso_main -DVIRTUOSO_VERSION='"$(VERSION)"' -DVIRTUOSO_GIT='"$(GIT_DESC)"' -MMD -MP -c -o $@ $<

build/tests/cli/test_xval build/tests/cli/test_cal_latency: build/tests/cli/%: build/tests/cli/%.o $(filter-out build/cli/virtuoso.o,$(CLI_OBJS)) build/tests/cli/virtuoso-nomain.o build/libvirtuoso.a
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CRITERION_LIBS) $(LDLIBS)

# test_report and test_validation decode Chromium's PNG screenshot with zlib (pkg-config libbpf may give -lbpf alone)
build/tests/reports/test_report build/tests/reports/test_validation: LDLIBS += -lz

# Programs the tests run as commands (virtuoso linux -- CMD): plain C, nothing of ours.
TEST_HELPERS += build/tests/helpers/mapper

build/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(CFLAGS) -o $@ $<

build/bench/%: bench/%.c build/libvirtuoso.a
	@mkdir -p $(@D)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -O3 -MMD -MP -o $@ $< build/libvirtuoso.a $(LDLIBS)

# The probes declare the kernel types they read themselves (bpf/kernel.h, CO-RE
# relocated at load time), so the build needs no vmlinux.h and no kernel BTF.
# DWARF is dropped (bpftool gen object keeps the BTF that CO-RE needs), so the
# skeleton embeds a small object.
BPF_ARCH_INC := $(shell $(CC) -print-multiarch 2>/dev/null | sed 's|^|-idirafter /usr/include/|')
build/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h bpf/kernel.h workload/event.h workload/x86.h
	@mkdir -p $(@D)
	@echo "  BPF     $<"
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I. $(BPF_ARCH_INC) -c $< -o $@.full
	$(Q)$(BPFTOOL) gen object $@ $@.full && rm -f $@.full

build/bpf/%.skel.h: build/bpf/%.bpf.o
	@echo "  GENSKEL $@"
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Tests run from the top of the tree (they read datasets/ and tests/data/).
# Suites that change host settings or measure the host serialise themselves.
# The last lines count tested, passed, failed and skipped tests, and give each
# distinct skip reason (scripts/run-tests.sh).
test: bin/virtuoso $(TESTS) $(TEST_HELPERS)
	@scripts/run-tests.sh $(TESTS)

# The main job: the default workload on this host under the probes and in the
# simulated world at the same addresses, compared (virtuoso run: needs root
# and kernel BTF). It prints the verdict and where the report is. An ordinary
# user runs it through sudo, as deps.sh installs through it, and gets the
# results back as their own.
MAIN_SPEC ?= datasets/workloads/default.json
MAIN_OUT ?= out/default
MAIN_SUDO := $(shell [ "$$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && echo sudo; })
# After the run: when the simulated side was the uncalibrated reference model
# (no calibration stored for this host, calibrate/README.md "The store"), how
# to make one. Under sudo the store is root's: /var/lib/virtuoso/calibration.
MAIN_CAL_HINT = grep -q '"calibrated": false' $(MAIN_OUT)/sim.json 2>/dev/null && \
	echo "main: no calibration for this host: the simulated side is the uncalibrated reference model (virtuoso calibrate -o DIR makes one, and the next make main uses it)" || true
main: bin/virtuoso
	@mkdir -p $(MAIN_OUT)
	$(MAIN_SUDO) bin/virtuoso run $(MAIN_SPEC) -o $(MAIN_OUT) --repeat 3
	$(if $(MAIN_SUDO),$(MAIN_SUDO) chown -R "$$(id -u):$$(id -g)" $(MAIN_OUT))
	@echo "main: open $(MAIN_OUT)/report.html (report.md and summary.json beside it; the sides: linux.json, sim.json and their event logs)"
	@$(MAIN_CAL_HINT)

# The accuracy gate by hand: every shipped reference bundle validated against
# its baseline.json (no root; make test runs it as an ordinary user,
# tests/cli/test_gate.c). GATE_UPDATE=1 rewrites the baselines instead.
gate: bin/virtuoso
	@mkdir -p out/gate; for m in datasets/reference/*/manifest.json; do d=$${m%/manifest.json}; \
		bin/virtuoso validate --reference $$d -o out/gate/$${d##*/} \
			--baseline $$d/baseline.json $(if $(GATE_UPDATE),--update-baseline) || exit 1; done

bench: bin/virtuoso $(BENCHES)
	@for b in $(BENCHES); do $$b || exit 1; done

deps:
	./scripts/deps.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
