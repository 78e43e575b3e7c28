# MiniDock: `make build` publishes the one NativeAOT binary to bin/; `make test` installs what the
# tests need and runs them all; `make bench` prints the comparison table.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
PUBLISH := out/publish
APT_PACKAGES := busybox-static runc crun jq hyperfine file util-linux iproute2 procps gcc docker-registry skopeo umoci zstd attr buildah tini podman curl tmux containernetworking-plugins iptables containerd conmon

.PHONY: build test unit integration deps bench clean demo

build:
	$(DOTNET) publish src/MiniDock.Cli -c $(CONFIG) -o $(PUBLISH) -p:TreatWarningsAsErrors=true --nologo -v:q
	mkdir -p bin
	@# written under a temp name, then renamed: a running monitor keeps its old file, and nothing that
	@# starts meanwhile can map a half-written binary or library (cp would fail with ETXTBSY or corrupt them)
	install -m 0755 $(PUBLISH)/minidock bin/.minidock.new && mv -f bin/.minidock.new bin/minidock
	@# the native libraries the binary loads (SQLite's libe_sqlite3.so) travel beside it
	for so in $(PUBLISH)/*.so; do install -m 0755 $$so bin/.$$(basename $$so).new && mv -f bin/.$$(basename $$so).new bin/$$(basename $$so); done
	ln -sf minidock bin/minidock-runtime
	@echo "built bin/minidock and bin/minidock-runtime"

deps:
	@if [ "$$(id -u)" != 0 ]; then echo "make test needs root (it runs real containers)"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null

UNIT_TESTS := tests/MiniDock.Runtime.Tests tests/MiniDock.Registry.Tests tests/MiniDock.Images.Tests tests/MiniDock.Cli.Tests
# Containers tests mount overlays: they too run in a private mount namespace.
UNSHARED_UNIT_TESTS := tests/MiniDock.Containers.Tests

unit:
	@set -e; for t in $(UNIT_TESTS); do $(DOTNET) test $$t -c $(CONFIG) --nologo; done; \
	  for t in $(UNSHARED_UNIT_TESTS); do unshare -m --propagation private $(DOTNET) test $$t -c $(CONFIG) --nologo; done

# Integration tests run real containers; a private mount namespace guarantees that a failed test
# cannot leave a mount on the host, and a network namespace of their own (lo up) that no bridge,
# NAT rule or ip_forward change of theirs reaches the host's network (the network tests go further:
# each makes its own namespace). Built first, outside: the test run itself needs no network.
integration: build
	$(DOTNET) build tests/MiniDock.Integration.Tests -c $(CONFIG) --nologo -v:q
	unshare -m -n --propagation private sh -c 'ip link set lo up && exec $(DOTNET) test tests/MiniDock.Integration.Tests -c $(CONFIG) --nologo --no-build'

# Every suite, then one closing line with the totals ("N passed, N failed").
test: deps build
	@mkdir -p out
	@set -o pipefail; $(MAKE) --no-print-directory unit integration 2>&1 | tee out/test.log; rc=$$?; \
	awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($$i == "Passed:") p += $$(i+1) + 0; if ($$i == "Failed:") f += $$(i+1) + 0 } } \
	     END { printf "%d passed, %d failed\n", p, f }' out/test.log; exit $$rc

# Sections runtime, pull and run (bench/bench.sh's header); `make bench BENCH="run"` for some.
bench: deps build
	bash bench/bench.sh $(BENCH)

# The whole path on a fresh machine (scripts/demo.sh): a docker-registry on 127.0.0.1, the sandbox
# image (Dockerfile.rootfs) built with buildah and pushed there, then bin/minidock pull, images and
# run, with MINIDOCK_ROOT=out/demo, in one shell inside a private mount namespace. Everything it
# started or wrote is removed on exit (DEMO_KEEP=1 keeps out/demo).
demo: deps build
	@bash scripts/demo.sh

clean:
	rm -rf bin out src/*/bin src/*/obj tests/*/bin tests/*/obj
