# MiniDock: `make build` publishes the one NativeAOT binary to bin/; `make test` installs what the
# tests need and runs them all; `make bench` prints the comparison table.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
PUBLISH := out/publish
APT_PACKAGES := busybox-static runc crun jq hyperfine file util-linux iproute2 procps gcc docker-registry skopeo umoci zstd attr

.PHONY: build test unit integration deps bench clean demo

build:
	$(DOTNET) publish src/MiniDock.Cli -c $(CONFIG) -o $(PUBLISH) -p:TreatWarningsAsErrors=true --nologo -v:q
	mkdir -p bin
	cp $(PUBLISH)/minidock bin/minidock
	# native libraries the binary needs (none yet beyond libc) travel beside it
	find $(PUBLISH) -maxdepth 1 -name '*.so' -exec cp {} bin/ \;
	ln -sf minidock bin/minidock-runtime
	@echo "built bin/minidock and bin/minidock-runtime"

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make test needs root (it runs real containers)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null

UNIT_TESTS := tests/MiniDock.Runtime.Tests tests/MiniDock.Registry.Tests tests/MiniDock.Images.Tests

unit:
	@set -e; for t in $(UNIT_TESTS); do $(DOTNET) test $$t -c $(CONFIG) --nologo; done

# Integration tests run real containers; a private mount namespace guarantees that a failed test
# cannot leave a mount on the host.
integration: build
	unshare -m --propagation private $(DOTNET) test tests/MiniDock.Integration.Tests -c $(CONFIG) --nologo

# Every suite, then one closing line with the totals ("N passed, N failed").
test: deps build
	@mkdir -p out
	@set -o pipefail; $(MAKE) --no-print-directory unit integration 2>&1 | tee out/test.log; rc=$$?; \
	awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($$i == "Passed:") p += $$(i+1) + 0; if ($$i == "Failed:") f += $$(i+1) + 0 } } \
	     END { printf "%d passed, %d failed\n", p, f }' out/test.log; exit $$rc

bench: deps build
	bash bench/bench.sh

# Today's demo: the engine runs a busybox bundle (the registry/pull/run path replaces it when the
# image milestone lands). Runs in a private mount namespace, so it leaves nothing on the host.
demo: deps build
	@rm -rf out/demo && samples/busybox-bundle/mkbundle.sh out/demo >/dev/null
	@echo "== bin/minidock-runtime run (busybox bundle in out/demo)"
	cd out/demo && unshare -m --propagation private ../../bin/minidock-runtime --root ../../out/demo-state run demo
	@echo "== the same with --debug: every engine step and its time, on stderr"
	cd out/demo && unshare -m --propagation private ../../bin/minidock-runtime --root ../../out/demo-state --debug run demo 2>&1 >/dev/null | head -12

clean:
	rm -rf bin out src/*/bin src/*/obj tests/*/bin tests/*/obj
