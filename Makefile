# PrivateServer — see README.md. `make run` and `make test` are the two commands that must always work.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIGURATION ?= Release
RIDS ?= linux-x64 win-x64
PROGRAMS := appliance/PrivateServer.Appliance modules/PrivateServer.HostModule modules/PrivateServer.SupporterModule
# The programs the .deb and .msi packages install.
PACKAGED := appliance/PrivateServer.Appliance modules/PrivateServer.HostModule
RUN_DATA ?= data
RUN_URLS ?= https://127.0.0.1:8443

.PHONY: all build build-deps run test test-deps fuzz bench bench-deps publish package package-deps deb msi clean

all: build

## build: out/privateserver, out/privateserver-host, out/privateserver-supporter (and the tests)
build: build-deps
	$(DOTNET) build PrivateServer.sln -c $(CONFIGURATION) --nologo -v:minimal

## build-deps: npm, which fetches noVNC (pinned in server/PrivateServer.Server/Web/package-lock.json) into the embedded web assets
build-deps:
	@command -v npm >/dev/null || scripts/install-packages.sh npm

## run: the appliance on https://127.0.0.1:8443 with ./data; the first start initialises it and prints the admin password once
run: build
	@if [ ! -f "$(RUN_DATA)/privateserver.db" ]; then out/privateserver init --data "$(RUN_DATA)"; fi
	out/privateserver run --data "$(RUN_DATA)" --urls "$(RUN_URLS)"

## test: installs the packages the tests drive (if missing), builds the programs and the .deb/.msi packages, runs every test project
test: test-deps build package
	scripts/run-tests.sh "$(CONFIGURATION)"

test-deps:
	scripts/install-test-deps.sh

## fuzz: the fuzz tests of every parser (control messages, RFB view-only filter both ways, file-transfer frames,
## certificate requests and imports) with fresh random seeds for FUZZ_SECONDS each, side by side (default 600); not part of test.
## A failure names its seed: PRIVATESERVER_FUZZ_SEED=S dotnet test ... replays it.
FUZZ_SECONDS ?= 600
fuzz: build
	PRIVATESERVER_FUZZ_SECONDS=$(FUZZ_SECONDS) $(DOTNET) test PrivateServer.sln -c $(CONFIGURATION) --no-build --nologo --filter "Category=Fuzz"

## bench: relay vs direct TCP vs OpenSSH, set-up latency, idle hosts, chatty sessions (BENCH_ARGS="--quick" for a smoke run); not part of test
bench: bench-deps build
	$(DOTNET) run --project tests/PrivateServer.Benchmarks -c $(CONFIGURATION) --no-build -- $(BENCH_ARGS)

bench-deps:
	scripts/install-bench-deps.sh

## publish: self-contained single-file programs in out/publish/<rid>/
publish:
	@set -e; for rid in $(RIDS); do for project in $(PROGRAMS); do \
	  $(DOTNET) publish "$$project" -c Release -r "$$rid" --self-contained -p:PublishSingleFile=true -p:NuGetLockFilePath=obj/publish-$$rid.packages.lock.json --nologo -v:minimal -o "out/publish/$$rid"; \
	done; done

## deb: out/privateserver_<version>_amd64.deb and out/privateserver-host_<version>_amd64.deb (packaging/debian)
deb: package-deps
	$(MAKE) --no-print-directory publish RIDS=linux-x64 PROGRAMS="$(PACKAGED)"
	packaging/debian/build.sh

## msi: out/privateserver-<version>-x64.msi and out/privateserver-host-<version>-x64.msi (packaging/msi, wixl)
msi: package-deps
	$(MAKE) --no-print-directory publish RIDS=win-x64 PROGRAMS="$(PACKAGED)"
	packaging/msi/build.sh

## package: both
package: deb msi

package-deps:
	@scripts/install-packages.sh lintian wixl msitools

clean:
	rm -rf out
	find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
