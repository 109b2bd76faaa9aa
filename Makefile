# vsmmu — build a patched qemu-system-aarch64 with the vsmmu device, test it,
# and boot a demo guest through it.
#
#   make          build qemu-system-aarch64: on an aarch64 host the user
#                 build (build/qemu-user), elsewhere the test build
#                 (build/qemu-build); BUILD_CONFIG=test|user picks one
#   make install  install the build under PREFIX (default /usr/local)
#   make check    build, then run every test; last line "N passed, N failed"
#   make run      build, then boot the demo guest; last line "vsmmu demo: …"
#   make bench    build, then print "bench: <name>: <value>" lines
#   make e2e      build, then the end-to-end test on a real Linux 7.2 (L0/L1/L2,
#                 docs/testing.md); last line "e2e: PASS <n> scenarios"
#   make e2e-kernel   only the arm64 kernel Image of the e2e test: $(E2E_IMAGE)
#   make check-sanitize   the qtests and the fuzz corpus replay on a clang
#                 build with ASan + UBSan ($(QEMU_SAN_BUILD)); same last line
#   make fuzz     libFuzzer on each vsmmu target for FUZZ_SECONDS; prints
#                 "fuzz: <target>: execs=… crashes=… timeouts=… cov=…"
#
# All set-up (apt packages, QEMU source, guest kernel) happens inside these
# targets and is skipped when already done.

# The QEMU source: Debian's source package, fetched with apt-get source.
QEMU_DEB_VERSION := 1:10.2.2+ds-1
QEMU_UPSTREAM    := $(shell echo '$(QEMU_DEB_VERSION)' | sed -e 's/^[0-9]*://' -e 's/-[^-]*$$//')

TOP        := $(CURDIR)
BUILD      := $(TOP)/build
QEMU_SRC   := $(BUILD)/qemu-$(QEMU_UPSTREAM)
STAMPS     := $(BUILD)/stamps

PATCHES    := $(sort $(wildcard $(TOP)/patches/*.patch))

# Two build configurations (scripts/qemu-config.sh has their options):
#   test  TCG, the virt board and the devices it implies, trimmed for build
#         speed: what make check, make run and make bench need
#   user  the same plus KVM, user-mode networking (libslirp), vhost: what a
#         user of an Arm host (NVIDIA Grace) runs guests with; the e2e
#         cross build (scripts/e2e-qemu.sh) uses the same options
# An aarch64 host builds the user configuration, any other the test one;
# BUILD_CONFIG=test|user overrides. Each has its own build directory.
HOST_ARCH := $(shell uname -m)
ifeq ($(HOST_ARCH),aarch64)
BUILD_CONFIG ?= user
else
BUILD_CONFIG ?= test
endif
ifeq ($(filter test user,$(BUILD_CONFIG)),)
$(error BUILD_CONFIG must be test or user, not '$(BUILD_CONFIG)')
endif
ifeq ($(BUILD_CONFIG),user)
QEMU_BUILD := $(BUILD)/qemu-user
OPTS_STAMP := $(STAMPS)/configure-opts-user
DEPS_STAMP := $(STAMPS)/deps-user
else
QEMU_BUILD := $(BUILD)/qemu-build
OPTS_STAMP := $(STAMPS)/configure-opts
DEPS_STAMP := $(STAMPS)/deps
endif
QEMU_BIN   := $(QEMU_BUILD)/qemu-system-aarch64
PREFIX     ?= /usr/local

QEMU_CONFIGURE := $(shell $(TOP)/scripts/qemu-config.sh $(BUILD_CONFIG))
# The sanitizer build (make check-sanitize, make fuzz) uses the test
# configuration's options with clang, ASan, UBSan and libFuzzer
QEMU_CONFIGURE_COMMON := $(shell $(TOP)/scripts/qemu-config.sh test)
# ccache is always used: scripts/deps.sh installs it before configure runs,
# so the options are the same on the first run of a fresh machine as on
# every later one (deciding here, at parse time, would see no ccache yet on
# the first run and reconfigure from scratch on the second).
QEMU_CONFIGURE += --cc="ccache cc" --cxx="ccache c++"
# Paths relative to the clone, so a fresh clone elsewhere hits the cache
export CCACHE_BASEDIR := $(TOP)
export CCACHE_NOHASHDIR := true

NINJA_TARGETS := qemu-system-aarch64 vsmmu-qtests

.PHONY: all build check run bench deps install clean distclean FORCE
.PHONY: e2e e2e-kernel e2e-qemu check-sanitize fuzz fuzz-coverage build-san
all: build

# --- set-up --------------------------------------------------------------

deps: $(DEPS_STAMP)
$(STAMPS)/deps: $(TOP)/scripts/deps.sh
	@mkdir -p $(STAMPS)
	$(TOP)/scripts/deps.sh
	@touch $@
# The user build's libraries (libslirp) on top of the test build's
$(STAMPS)/deps-user: $(STAMPS)/deps $(TOP)/scripts/qemu-config.sh
	$(TOP)/scripts/deps.sh user
	@touch $@

# apt-get source through the private apt configuration; dpkg-source
# verifies the package and applies Debian's own patches.
$(STAMPS)/qemu-source: | $(STAMPS)/deps
	@mkdir -p $(STAMPS)
	rm -rf $(QEMU_SRC) $(BUILD)/qemu_*
	cd $(BUILD) && $(TOP)/scripts/apt.sh sid apt-get source -q \
		--only-source 'qemu=$(QEMU_DEB_VERSION)'
	test -f $(QEMU_SRC)/VERSION
	rm -f $(STAMPS)/patched
	@touch $@

# Our patches applied in order, our directories linked into the tree. When
# the patch series changes, the previous series is reverted first, so the
# tree (and the ninja build) is updated in place.
$(STAMPS)/patched: $(STAMPS)/qemu-source $(PATCHES) $(TOP)/scripts/link-tree.sh
	$(TOP)/scripts/apply-patches.sh $(QEMU_SRC) $(BUILD)/applied-patches $(PATCHES)
	$(TOP)/scripts/link-tree.sh $(TOP) $(QEMU_SRC)
	@touch $@

# Reconfigure from scratch only when the configure options change; patches
# that touch meson files make ninja regenerate by itself.
$(OPTS_STAMP): FORCE
	@mkdir -p $(STAMPS)
	@echo '$(QEMU_CONFIGURE)' | cmp -s - $@ || echo '$(QEMU_CONFIGURE)' > $@

$(QEMU_BUILD)/build.ninja: $(OPTS_STAMP) | $(STAMPS)/patched $(DEPS_STAMP)
	rm -rf $(QEMU_BUILD) && mkdir -p $(QEMU_BUILD)
	cd $(QEMU_BUILD) && $(QEMU_SRC)/configure $(QEMU_CONFIGURE)

# --- build ---------------------------------------------------------------

# New headers under include/ need linking; ninja handles everything else.
build: $(STAMPS)/patched $(QEMU_BUILD)/build.ninja
	@$(TOP)/scripts/link-tree.sh $(TOP) $(QEMU_SRC)
	ninja -C $(QEMU_BUILD) $(NINJA_TARGETS)
	@$(MAKE) --no-print-directory simhost
ifeq ($(BUILD_CONFIG),user)
	@# Run from the build tree, QEMU looks for its firmware path (the NICs'
	@# option ROMs of Debian's ipxe-qemu) inside qemu-bundle: point it there
	@mkdir -p $(QEMU_BUILD)/qemu-bundle/usr/lib/ipxe
	@ln -sfn /usr/lib/ipxe/qemu $(QEMU_BUILD)/qemu-bundle/usr/lib/ipxe/qemu
endif

# The simulated Arm host for tests (tests/simhost): an LD_PRELOAD library,
# never linked into QEMU, and its own direct tests. QEMU's linux-headers
# carry the iommufd uAPI (the system's may be older).
SIMHOST_DIR  := $(BUILD)/simhost
SIMHOST_LIB  := $(SIMHOST_DIR)/libsimhost.so
SIMHOST_TEST := $(SIMHOST_DIR)/simhost-selftest
SIMHOST_SRCS := $(addprefix $(TOP)/tests/simhost/,simhost.c simhost-iommufd.c \
                  simhost-ioas.c simhost-viommu.c \
                  simhost-vfio.c simhost-smmu.c)
SIMHOST_HDRS := $(wildcard $(TOP)/tests/simhost/*.h)
SIMHOST_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter \
                  -Wno-sign-compare -Werror \
                  -isystem $(QEMU_SRC)/linux-headers

.PHONY: simhost
simhost: $(SIMHOST_LIB) $(SIMHOST_TEST)

$(SIMHOST_LIB): $(SIMHOST_SRCS) $(SIMHOST_HDRS) | $(STAMPS)/qemu-source
	@mkdir -p $(SIMHOST_DIR)
	cc $(SIMHOST_CFLAGS) -shared -fPIC -o $@ $(SIMHOST_SRCS) -ldl -lpthread

$(SIMHOST_TEST): $(TOP)/tests/simhost/simhost-selftest.c $(SIMHOST_HDRS) \
                 | $(STAMPS)/qemu-source
	@mkdir -p $(SIMHOST_DIR)
	cc $(SIMHOST_CFLAGS) -o $@ $< -ldl

# --- main jobs -----------------------------------------------------------

check: build
	$(TOP)/scripts/run-tests.sh $(QEMU_BUILD)

run: build
	$(TOP)/demo/main.sh $(QEMU_BIN)

bench: build
	$(TOP)/scripts/bench.sh $(QEMU_BUILD)

# QEMU's own install (meson install, runtime files only) of this build,
# moved under PREFIX: QEMU finds its data relative to its binary, so no
# reconfigure or rebuild is needed for another PREFIX. DESTDIR is honoured.
install: build
	$(TOP)/scripts/install.sh $(QEMU_BUILD) '$(DESTDIR)$(PREFIX)' $(BUILD_CONFIG)

# The end-to-end test (scripts/e2e.sh). E2E_IMAGE is the arm64 Linux 7.2
# Image it boots as L1 and L2 (IOMMUFD, SMMUv3 nesting, VFIO cdev, KVM,
# Tegra241 CMDQV; e2e/kernel.config), for any test that needs such a guest.
# The L1 QEMU is the user build's configuration, cross-built for aarch64.
# E2E_SCENARIOS picks scenarios (default: all).
E2E_IMAGE     := $(BUILD)/e2e/Image
E2E_QEMU      := $(BUILD)/e2e/qemu-aarch64/qemu-system-aarch64
E2E_SCENARIOS ?=

e2e-kernel:
	$(TOP)/scripts/e2e-kernel.sh

e2e-qemu: build
	$(TOP)/scripts/e2e-qemu.sh $(QEMU_SRC)

e2e: build
	$(TOP)/scripts/e2e.sh $(QEMU_BIN) $(QEMU_SRC) $(E2E_SCENARIOS)

# --- sanitizers and fuzzing ----------------------------------------------

# A second build directory over the same patched source tree: clang with
# ASan + UBSan and libFuzzer instrumentation (--enable-fuzzing, which
# adds -fsanitize=fuzzer-no-link to everything and builds
# qemu-fuzz-aarch64 with our targets from tests/fuzz). The same trimmed
# device set as the normal build. Tools: scripts/deps.sh sanitize.
SAN_CC          := clang-19
SAN_CXX         := clang++-19
QEMU_SAN_BUILD  := $(BUILD)/qemu-san
QEMU_SAN_CONFIGURE := $(QEMU_CONFIGURE_COMMON) \
	--cc="ccache $(SAN_CC)" --cxx="ccache $(SAN_CXX)" \
	--enable-fuzzing --enable-asan --enable-ubsan
SAN_NINJA_TARGETS := qemu-system-aarch64 vsmmu-qtests qemu-fuzz-aarch64
QEMU_FUZZ_BIN   := $(QEMU_SAN_BUILD)/qemu-fuzz-aarch64

$(STAMPS)/deps-sanitize: $(TOP)/scripts/deps.sh
	@mkdir -p $(STAMPS)
	$(TOP)/scripts/deps.sh sanitize
	@touch $@

$(STAMPS)/san-configure-opts: FORCE
	@mkdir -p $(STAMPS)
	@echo '$(QEMU_SAN_CONFIGURE)' | cmp -s - $@ || \
		echo '$(QEMU_SAN_CONFIGURE)' > $@

$(QEMU_SAN_BUILD)/build.ninja: $(STAMPS)/san-configure-opts \
		| $(STAMPS)/patched $(STAMPS)/deps-sanitize
	rm -rf $(QEMU_SAN_BUILD) && mkdir -p $(QEMU_SAN_BUILD)
	cd $(QEMU_SAN_BUILD) && $(QEMU_SRC)/configure $(QEMU_SAN_CONFIGURE)

build-san: $(STAMPS)/patched $(QEMU_SAN_BUILD)/build.ninja
	@$(TOP)/scripts/link-tree.sh $(TOP) $(QEMU_SRC)
	ninja -C $(QEMU_SAN_BUILD) $(SAN_NINJA_TARGETS)
	@$(MAKE) --no-print-directory simhost

check-sanitize: build-san
	$(TOP)/scripts/run-tests.sh --sanitize $(QEMU_SAN_BUILD)

# FUZZ_SECONDS per target; FUZZ_TARGETS to pick; FUZZ_JOBS processes
# (fork mode) per target
FUZZ_SECONDS ?= 180
FUZZ_TARGETS ?= vsmmu-emu vsmmu-nested vsmmu-cmdqv vsmmu-cmdqv-host vsmmu-accel \
                vsmmu-cmdqv-accel
FUZZ_JOBS    ?= 2
fuzz: build-san
	$(TOP)/scripts/fuzz.sh $(QEMU_SAN_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS) \
		$(FUZZ_TARGETS)

# Line coverage of hw/arm/vsmmu by the committed corpus (llvm-cov)
fuzz-coverage: build-san
	$(TOP)/scripts/fuzz-coverage.py $(QEMU_SAN_BUILD) $(TOP)/tests/fuzz/corpus

clean:
	rm -rf $(QEMU_BUILD) $(QEMU_SAN_BUILD)

distclean:
	rm -rf $(BUILD)
