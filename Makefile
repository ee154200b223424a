# The front door.  Every target calls meson/ninja (or a script under
# tests/, bench/, packaging/); make itself builds nothing.
BUILD     ?= build
MESON     ?= meson
PORT      ?= 8765
DEPS      := packaging/deps.sh

.PHONY: all deps build run test clean check-sanitize fuzz

all: build

deps:
	@$(DEPS) build

$(BUILD)/build.ninja:
	@$(DEPS) build
	$(MESON) setup $(BUILD) --buildtype=release

build: $(BUILD)/build.ninja
	@$(DEPS) build
	$(MESON) compile -C $(BUILD)

run: build
	@tests/run-product.sh $(BUILD) $(PORT)

test: $(BUILD)/build.ninja
	@$(DEPS) test
	$(MESON) compile -C $(BUILD)
	@rc=0; $(MESON) test -C $(BUILD) --print-errorlogs || rc=$$?; \
	  python3 tests/summary.py $(BUILD)/meson-logs/testlog.json; exit $$rc

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-sanitize:
	@$(DEPS) test
	@[ -f build-sanitize/build.ninja ] || $(MESON) setup build-sanitize --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false
	$(MESON) compile -C build-sanitize
	@# Reports go to files, so those of daemons whose output a test throws
	@# away are kept too; LeakSanitizer cannot run under ptrace (strace -f).
	@rc=0; leaks=1; rep=$(CURDIR)/build-sanitize/sanitizer-reports; \
	  if grep -Eq '^TracerPid:[[:space:]]*[1-9]' /proc/self/status; then \
	    leaks=0; echo "check-sanitize: under ptrace, LeakSanitizer off"; fi; \
	  rm -rf "$$rep"; mkdir -p "$$rep"; \
	  ASAN_OPTIONS=detect_leaks=$$leaks:abort_on_error=1:log_path=$$rep/asan \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$$rep/ubsan \
	  $(MESON) test -C build-sanitize --print-errorlogs || rc=$$?; \
	  python3 tests/summary.py build-sanitize/meson-logs/testlog.json; \
	  for f in "$$rep"/*; do [ -f "$$f" ] || continue; rc=1; \
	    echo "==== sanitizer report $$f"; head -n 60 "$$f"; done; exit $$rc

FUZZ_SECONDS ?= 60
fuzz:
	@$(DEPS) fuzz
	@[ -f build-fuzz/build.ninja ] || CC=clang $(MESON) setup build-fuzz --buildtype=debug \
	  -Dfuzz=enabled -Db_lundef=false
	$(MESON) compile -C build-fuzz
	@tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Churn soak: 100 connections/s with stream clients attached for
# SOAK_SECONDS; RSS of both daemons must stay within +25% (tests/it/soak.py).
SOAK_SECONDS ?= 60
.PHONY: soak
soak: $(BUILD)/build.ninja
	@$(DEPS) test
	$(MESON) compile -C $(BUILD)
	PROCNET_BUILD_ROOT=$(CURDIR)/$(BUILD) python3 tests/it/soak.py --seconds $(SOAK_SECONDS)

# Collector vs ss/psutil on a loopback population; rewrites the results
# section of docs/performance.md (bench/run.py --help for options).
.PHONY: bench
bench: $(BUILD)/build.ninja
	@$(DEPS) bench
	$(MESON) compile -C $(BUILD)
	python3 bench/run.py --build $(BUILD) $(BENCH_ARGS)

# Windows: cross-built with mingw-w64, the libraries from Debian's source
# packages, statically linked; tests run under Wine (docs/windows.md).
# The .exe files: $(BUILD_WIN)/collector-svc/procnet-collector.exe and
# $(BUILD_WIN)/webd/procnet-webd.exe; the UI: $(BUILD_WIN)/web/root.
BUILD_WIN ?= build-win
WINE_ENV  := WINEPREFIX=$(CURDIR)/$(BUILD_WIN)/wineprefix WINEARCH=win64 WINEDEBUG=-all
.PHONY: windows test-windows

$(BUILD_WIN)/build.ninja:
	@$(DEPS) build windows
	@packaging/windows/fetch-sources.sh
	@mkdir -p $(BUILD_WIN)
	$(WINE_ENV) $(MESON) setup $(BUILD_WIN) --buildtype=release \
	  --cross-file packaging/windows/cross-mingw64.txt --wrap-mode=nodownload

windows: $(BUILD_WIN)/build.ninja
	@$(DEPS) build windows
	@packaging/windows/fetch-sources.sh
	$(WINE_ENV) $(MESON) compile -C $(BUILD_WIN)

test-windows: windows
	@rc=0; $(WINE_ENV) $(MESON) test -C $(BUILD_WIN) --print-errorlogs || rc=$$?; \
	  python3 tests/summary.py $(BUILD_WIN)/meson-logs/testlog.json; exit $$rc

# The MSI (packaging/windows/procnet.wxs, docs/install.md), built with wixl
# from the cross build: $(BUILD_WIN)/procnet-live-VERSION-x64.msi.
# test-msi installs, upgrades and uninstalls it under Wine in a prefix of
# its own inside $(BUILD_WIN); test-windows runs the same test (it_msi).
.PHONY: msi test-msi
msi: windows
	packaging/windows/build-msi.sh --build $(BUILD_WIN)

test-msi: windows
	@tests/it/it_msi.sh $(BUILD_WIN)

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz $(BUILD_WIN)
