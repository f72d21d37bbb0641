# safemount — build, install, test.
#   make                 publish both Native AOT binaries into out/
#   make install         install binaries and systemd units under $(DESTDIR)
#   make example         build, install, and mount a freshly made example image (root)
#   make test            run every test (root: end-to-end mounts included)
#   make deps            install the Debian packages the build and the tests need (root)

PREFIX      ?= /usr
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec/safemount
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DOCDIR      ?= $(PREFIX)/share/doc/safemount
DESTDIR     ?=
CONFIG      ?= Release
OUT         ?= out

DOTNET      ?= dotnet
DOTNET_FLAGS = -c $(CONFIG) --nologo -v quiet

HELPER      = $(OUT)/mount.safe.ext4
SERVICE     = $(OUT)/safemount-ext4
SOURCES     = $(shell find src -name '*.cs' -o -name '*.csproj') Directory.Build.props Directory.Packages.props

.PHONY: all publish install uninstall example test deps clean

all: publish

publish: $(HELPER) $(SERVICE)

$(HELPER): $(SOURCES)
	$(DOTNET) publish src/MountHelper/MountHelper.csproj $(DOTNET_FLAGS) -o $(OUT)/helper
	install -m 0755 $(OUT)/helper/mount.safe.ext4 $@

$(SERVICE): $(SOURCES)
	$(DOTNET) publish src/Ext4Service/Ext4Service.csproj $(DOTNET_FLAGS) -o $(OUT)/service
	install -m 0755 $(OUT)/service/safemount-ext4 $@

install: publish
	install -D -m 0755 $(HELPER) $(DESTDIR)$(SBINDIR)/mount.safe.ext4
	install -D -m 0755 $(SERVICE) $(DESTDIR)$(LIBEXECDIR)/safemount-ext4
	install -D -m 0644 packaging/systemd/safemount-ext4.socket $(DESTDIR)$(UNITDIR)/safemount-ext4.socket
	sed 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' packaging/systemd/safemount-ext4@.service > $(OUT)/safemount-ext4@.service
	install -D -m 0644 $(OUT)/safemount-ext4@.service $(DESTDIR)$(UNITDIR)/safemount-ext4@.service
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 docs/PROTOCOL.md $(DESTDIR)$(DOCDIR)/PROTOCOL.md

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mount.safe.ext4 $(DESTDIR)$(LIBEXECDIR)/safemount-ext4
	rm -f $(DESTDIR)$(UNITDIR)/safemount-ext4.socket $(DESTDIR)$(UNITDIR)/safemount-ext4@.service
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(LIBEXECDIR)

deps:
	scripts/install-deps

example: deps install
	scripts/example

test: deps
	scripts/run-tests

clean:
	rm -rf $(OUT)
	$(DOTNET) clean safemount.sln --nologo -v quiet
