# The front door.  Every target calls meson/ninja (or a script under
# tests/, bench/, packaging/); make itself builds nothing.
BUILD     ?= build
MESON     ?= meson
PORT      ?= 8765
DEPS      := packaging/deps.sh

.PHONY: all deps build run test clean

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

clean:
	rm -rf $(BUILD)
