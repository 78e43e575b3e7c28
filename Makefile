# MiniDock: `make build` publishes the one NativeAOT binary to bin/; `make test` installs what the
# tests need and runs them all; `make bench` prints the comparison table.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release
PUBLISH := out/publish
APT_PACKAGES := busybox-static runc crun jq hyperfine file util-linux iproute2 procps gcc

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

unit:
	$(DOTNET) test tests/MiniDock.Runtime.Tests -c $(CONFIG) --nologo

# Integration tests run real containers; a private mount namespace guarantees that a failed test
# cannot leave a mount on the host.
integration: build
	unshare -m --propagation private $(DOTNET) test tests/MiniDock.Integration.Tests -c $(CONFIG) --nologo

test: deps build unit integration

bench: deps build
	bash bench/bench.sh

clean:
	rm -rf bin out src/*/bin src/*/obj tests/*/bin tests/*/obj
