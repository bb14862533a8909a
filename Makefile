# SPDX-License-Identifier: GPL-2.0
#
# hvx top-level Makefile.
#
#   make                 hvx.ko against $(KDIR), userspace tools, selftests
#   make demo            a Linux guest booting under hvx (natively, or in Bochs)
#   make check           everything the tests need, then the emulator suite
#   make check TESTS=re  only tests whose name matches the extended regex
#   make check HVX_KERNEL=7  the suite on a 7.x host kernel with kmod/patches/
#                        applied, where hvx and KVM share VMX (built once
#                        into build/cache/kernel7 by selftests/vm/kernel7.sh;
#                        needs the 7.x source `make kernels` fetches)
#   make check-debug     the same suite on a debug build of Debian's 6.1
#                        kernel (KASAN, lockdep, kmemleak, fault injection;
#                        built once into build/cache/debug-kernel, ~30 min)
#   make C=1 / W=1       sparse / extra warnings (passed through to Kbuild)
#   make lint            tree rules, kernel-doc, checkpatch --strict, and a
#                        W=1 C=2 build, no emulator (selftests/lint/lint.sh);
#                        LINT_STEPS="tree kdoc checkpatch build" picks steps
#   make bench           hvx against KVM in one Bochs boot: table, JSON, plot,
#                        userspace/bench/results/bench.md
#   make bench-smoke     the same with one quick iteration, then the gate
#                        against userspace/bench/baseline.json (what CI runs)
#   make bench-baseline  the bench-smoke run, then a new baseline.json and
#                        userspace/bench/results/bench-smoke.md
#   make kernels         hvx built W=1 against 6.1, the oldest and newest
#                        Debian 6.12 ABIs and a 7.x tree without and with
#                        kmod/patches/ (selftests/vm/kernels.sh)

# The emulated-host kernel that `make check` builds against and boots.
# This is the one place its version is set.
HVX_HOST_KVER := 6.1.0-56-amd64

KDIR ?= /lib/modules/$(shell uname -r)/build
HOST_KDIR := /usr/src/linux-headers-$(HVX_HOST_KVER)
BUILD := $(CURDIR)/build

export HVX_HOST_KVER

.PHONY: all module userspace selftests check check-runner check-debug clean deps demo lint
.PHONY: bench bench-smoke bench-build bench-deps bench-baseline bench-gate kernels

all: module userspace selftests bench-build

# The commit a check or bench run tests, taken when make starts: the tree
# may move on during the builds and emulator runs (their records name it).
HVX_COMMIT ?= $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
export HVX_COMMIT

module:
	@test -d "$(KDIR)" || { echo "hvx: kernel headers not found at KDIR=$(KDIR); install them or pass KDIR=..." >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

userspace:
	$(MAKE) -C userspace BUILD=$(BUILD)

selftests:
	$(MAKE) -C selftests/hvx OUTPUT=$(BUILD)/selftests/bin

deps:
	bash selftests/vm/deps.sh

# The test runner's own unit tests (selftests/vm/hvxcheck_test.py): seconds,
# so they come first.
check-runner:
	cd selftests/vm && python3 -m unittest -q hvxcheck_test

check: deps
	$(MAKE) check-runner
ifeq ($(HVX_KERNEL),7)
	set -e; \
	tree=$$(bash selftests/vm/kernel7.sh $(BUILD)/cache | tail -n1); \
	rm -rf $(K7_MOD); mkdir -p $(K7_MOD); \
	cp -r Kbuild kmod vmx ept iommu uapi $(K7_MOD)/; \
	$(MAKE) -C $$tree M=$(K7_MOD) W=1 modules; \
	$(MAKE) userspace selftests; \
	HVX_BUILD=$(BUILD)/kernel7 HVX_KO=$(K7_MOD)/hvx.ko HVX_KERNEL=7 \
	HVX_HOST_VMLINUZ=$$tree/arch/x86/boot/bzImage HVX_HOST_MODULES_DIR=$$tree \
	HVX_TESTS_DIR=$(BUILD)/selftests/bin TESTS="$(TESTS)" \
	HVX_HVXCTL=$(BUILD)/userspace/hvxctl HVX_RUN=$(BUILD)/userspace/hvx-run \
		bash selftests/vm/check.sh
else ifneq ($(HVX_KERNEL),)
	@echo "HVX_KERNEL=$(HVX_KERNEL): only 7 (or empty, Debian's $(HVX_HOST_KVER)) is known" >&2; exit 1
else
	$(MAKE) module KDIR=$(HOST_KDIR) W=1
	$(MAKE) userspace selftests
	HVX_BUILD=$(BUILD) HVX_KO=$(CURDIR)/hvx.ko \
	HVX_TESTS_DIR=$(BUILD)/selftests/bin TESTS="$(TESTS)" \
	HVX_HVXCTL=$(BUILD)/userspace/hvxctl HVX_RUN=$(BUILD)/userspace/hvx-run \
		bash selftests/vm/check.sh
endif

# make check HVX_KERNEL=7: the module is built from a copy of the sources
# against the 7.x tree, as for check-debug.
K7_MOD := $(BUILD)/kernel7-mod

# Style and structure checks against the emulated host's headers.
LINT_STEPS ?= tree kdoc checkpatch build
lint: deps
	KDIR=$(HOST_KDIR) LINT_STEPS="$(LINT_STEPS)" bash selftests/lint/lint.sh

# The module is built from a copy of the sources, so that its objects do
# not mix with those of the normal build. By default the debug kernel
# runs in QEMU, in the 1-CPU Bochs, whose programs two boots share
# (bochs2: over an hour and a half in one, selftests/README.md), and in
# bochs-spec (mitigations=auto: the barriers' paths); add bochs-smp for
# the 2-CPU one.
DEBUG_MOD := $(BUILD)/debug-mod
DEBUG_EMUS ?= qemu bochs bochs2 bochs-spec
DEBUG_BOCHS_TIMEOUT := 10800
# QEMU's default 600 s ends the debug kernel (KASAN in TCG) before its
# first test on a busy 2-core machine.
DEBUG_QEMU_TIMEOUT := 3600
# The debug kernel's timer tick (HZ=1000) needs more than the 50,000
# instructions Bochs's default IPS leaves between ticks: ten times as many.
DEBUG_BOCHS_IPS := 500000000
check-debug: deps
	set -e; \
	tree=$$(bash selftests/vm/debug-kernel.sh $(BUILD)/cache | tail -n1); \
	rm -rf $(DEBUG_MOD); mkdir -p $(DEBUG_MOD); \
	cp -r Kbuild kmod vmx ept iommu uapi $(DEBUG_MOD)/; \
	$(MAKE) -C $$tree M=$(DEBUG_MOD) W=1 modules; \
	$(MAKE) userspace selftests; \
	HVX_BUILD=$(BUILD)/debug HVX_KO=$(DEBUG_MOD)/hvx.ko HVX_EMUS="$(DEBUG_EMUS)" \
	HVX_BOCHS_IPS=$${HVX_BOCHS_IPS:-$(DEBUG_BOCHS_IPS)} \
	HVX_BOCHS_TIMEOUT=$${HVX_BOCHS_TIMEOUT:-$(DEBUG_BOCHS_TIMEOUT)} \
	HVX_QEMU_TIMEOUT=$${HVX_QEMU_TIMEOUT:-$(DEBUG_QEMU_TIMEOUT)} \
	HVX_HOST_VMLINUZ=$$tree/arch/x86/boot/bzImage HVX_HOST_MODULES_DIR=$$tree \
	HVX_TESTS_DIR=$(BUILD)/selftests/bin TESTS="$(TESTS)" \
	HVX_HVXCTL=$(BUILD)/userspace/hvxctl HVX_RUN=$(BUILD)/userspace/hvx-run \
		bash selftests/vm/check.sh

# The build matrix: one line per kernel, then a pass/fail summary. Kernel
# packages and trees are cached in build/cache/kernels, each build is in
# build/kernels/<name>/ with its log beside it.
kernels: deps
	HVX_BUILD=$(BUILD) bash selftests/vm/kernels.sh

# Benchmarks against KVM (userspace/bench/, selftests/vm/bench.sh). Not
# part of `make check`. bench-smoke proves that the benchmark builds and
# one quick iteration runs, and gates regressions: its counts are
# deterministic under Bochs, and an hvx operation whose emulated
# instructions or modelled cycles rise more than 3% above
# userspace/bench/baseline.json fails it (userspace/bench/README.md). It
# leaves out the linux_boot rows (three nested Linux boots, about 4 more
# minutes).
BENCH_BASELINE := $(CURDIR)/userspace/bench/baseline.json
BENCH_TOOL := python3 $(CURDIR)/userspace/bench/benchtool.py

bench-build:
	$(MAKE) -C userspace/bench BUILD=$(BUILD)

bench-deps: deps
	bash userspace/bench/deps.sh

BENCH_RUN = HVX_BUILD=$(BUILD) HVX_KO=$(CURDIR)/hvx.ko \
	HVX_BENCH=$(BUILD)/userspace/hvx-bench \
	HVX_HVXCTL=$(BUILD)/userspace/hvxctl bash selftests/vm/bench.sh

bench: bench-deps
	$(MAKE) module KDIR=$(HOST_KDIR) W=1
	$(MAKE) userspace bench-build
	HVX_BENCH_MD=$(CURDIR)/userspace/bench/results/bench.md $(BENCH_RUN)

BENCH_SMOKE_RUN = HVX_BENCH_ARGS=--quick HVX_BENCH_BOOT=0 HVX_BOCHS_TIMEOUT=1800 \
	HVX_BENCH_TIMEOUT=600 HVX_BENCH_TARGET="make bench-smoke" $(BENCH_RUN)

bench-smoke: deps
	bash userspace/bench/deps.sh smoke
	$(MAKE) module KDIR=$(HOST_KDIR) W=1
	$(MAKE) userspace bench-build
	$(BENCH_SMOKE_RUN)
	$(BENCH_TOOL) gate $(BENCH_BASELINE) $(BUILD)/bench/results.json

# The gate alone, on the results of the last bench-smoke.
bench-gate:
	$(BENCH_TOOL) gate $(BENCH_BASELINE) $(BUILD)/bench/results.json

bench-baseline: deps
	bash userspace/bench/deps.sh smoke
	$(MAKE) module KDIR=$(HOST_KDIR) W=1
	$(MAKE) userspace bench-build
	HVX_BENCH_MD=$(CURDIR)/userspace/bench/results/bench-smoke.md $(BENCH_SMOKE_RUN)
	$(BENCH_TOOL) baseline $(BUILD)/bench/results.json $(BENCH_BASELINE)

demo: deps
	@echo "demo: building hvx.ko and hvx-run (log: build/demo-build.log)"
	@mkdir -p $(BUILD)
	@{ $(MAKE) module KDIR=$(HOST_KDIR) W=1 && $(MAKE) userspace; } \
		>$(BUILD)/demo-build.log 2>&1 || { tail -n 20 $(BUILD)/demo-build.log; exit 1; }
	@HVX_BUILD=$(BUILD) HVX_KO=$(CURDIR)/hvx.ko HVX_RUN=$(BUILD)/userspace/hvx-run \
		bash selftests/vm/demo.sh

clean:
	-$(MAKE) -C $(HOST_KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C selftests/hvx OUTPUT=$(BUILD)/selftests/bin clean
	rm -rf $(BUILD)
