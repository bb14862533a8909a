# SPDX-License-Identifier: GPL-2.0
#
# hvx top-level Makefile.
#
#   make                 hvx.ko against $(KDIR), userspace tools, selftests
#   make demo            a Linux guest booting under hvx (natively, or in Bochs)
#   make check           everything the tests need, then the emulator suite
#   make check TESTS=re  only tests whose name matches the extended regex
#   make C=1 / W=1       sparse / extra warnings (passed through to Kbuild)

# The emulated-host kernel that `make check` builds against and boots.
# This is the one place its version is set.
HVX_HOST_KVER := 6.1.0-56-amd64

KDIR ?= /lib/modules/$(shell uname -r)/build
HOST_KDIR := /usr/src/linux-headers-$(HVX_HOST_KVER)
BUILD := $(CURDIR)/build

export HVX_HOST_KVER

.PHONY: all module userspace selftests check clean deps demo

all: module userspace selftests

module:
	@test -d "$(KDIR)" || { echo "hvx: kernel headers not found at KDIR=$(KDIR); install them or pass KDIR=..." >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(W),W=$(W)) $(if $(C),C=$(C)) modules

userspace:
	$(MAKE) -C userspace BUILD=$(BUILD)

selftests:
	$(MAKE) -C selftests/hvx OUTPUT=$(BUILD)/selftests/bin

deps:
	bash selftests/vm/deps.sh

check: deps
	$(MAKE) module KDIR=$(HOST_KDIR) W=1
	$(MAKE) userspace selftests
	HVX_BUILD=$(BUILD) HVX_KO=$(CURDIR)/hvx.ko \
	HVX_TESTS_DIR=$(BUILD)/selftests/bin TESTS="$(TESTS)" \
	HVX_HVXCTL=$(BUILD)/userspace/hvxctl HVX_RUN=$(BUILD)/userspace/hvx-run \
		bash selftests/vm/check.sh

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
