# safemount — build, install, test.
#   make                 publish both Native AOT binaries into out/
#   make install         install binaries, systemd units, preset, man pages and docs under $(DESTDIR)
#   make uninstall       remove exactly what `make install` installed (same variables)
#   make rpm             binary RPM of the published binaries into $(OUT)/rpm (rpmbuild)
#   make deb             Debian package of the published binaries into $(OUT)/deb (dpkg-deb)
#   make example         build, install, and mount a freshly made example image (root)
#   make test            run every test (root: end-to-end mounts included)
#   make deps            install the Debian packages the build and the tests need (root)

PREFIX      ?= /usr
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec/safemount
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DOCDIR      ?= $(PREFIX)/share/doc/safemount
MANDIR      ?= $(PREFIX)/share/man
# systemd.preset(5): vendor presets live in /usr/lib/systemd/system-preset.
PRESETDIR   ?= $(PREFIX)/lib/systemd/system-preset
# One version for binaries and packages: <Version> in Directory.Build.props.
VERSION     ?= $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
DESTDIR     ?=
CONFIG      ?= Release
OUT         ?= out

DOTNET      ?= dotnet
DOTNET_FLAGS = -c $(CONFIG) --nologo -v quiet

HELPER      = $(OUT)/mount.safe.ext4
SERVICE     = $(OUT)/safemount-ext4
# wildcard, not a fixed list: the rpm source tarball carries out/ but no sources, and there
# `make install` must take the binaries as they are instead of trying to rebuild them.
# bin/ and obj/ are pruned: publishing one project regenerates obj/*.cs of the shared ones,
# which made every `make` rebuild the helper.
SOURCES     = $(shell [ -d src ] && find src \( -name bin -o -name obj \) -prune -o \( -name '*.cs' -o -name '*.csproj' \) -print) \
              $(wildcard Directory.Build.props Directory.Packages.props)
MANPAGES    = docs/man/mount.safe.ext4.8 docs/man/safemount-ext4.8
PRESET      = packaging/systemd/80-safemount.preset

.PHONY: all publish install uninstall rpm deb example test deps clean

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
	install -D -m 0644 $(PRESET) $(DESTDIR)$(PRESETDIR)/80-safemount.preset
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man8/
	# The AOT linker leaves RUNPATH=$$ORIGIN; an installed binary must not load libraries from
	# its own directory (Fedora packaging guidelines, "Beware of Rpath"; Debian policy 10.2).
	chrpath -d $(DESTDIR)$(SBINDIR)/mount.safe.ext4 $(DESTDIR)$(LIBEXECDIR)/safemount-ext4

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mount.safe.ext4 $(DESTDIR)$(LIBEXECDIR)/safemount-ext4
	rm -f $(DESTDIR)$(UNITDIR)/safemount-ext4.socket $(DESTDIR)$(UNITDIR)/safemount-ext4@.service
	rm -f $(DESTDIR)$(PRESETDIR)/80-safemount.preset
	rm -f $(DESTDIR)$(MANDIR)/man8/mount.safe.ext4.8 $(DESTDIR)$(MANDIR)/man8/safemount-ext4.8
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/PROTOCOL.md
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)

# Both packages wrap the binaries `make publish` built (Native AOT: no runtime dependency
# beyond glibc); neither rebuilds .NET inside the package build (see packaging/rpm/safemount.spec).
rpm: publish
	VERSION=$(VERSION) OUT=$(OUT) packaging/rpm/build-rpm

deb: publish
	VERSION=$(VERSION) OUT=$(OUT) packaging/debian/build-deb

deps:
	scripts/install-deps

example: deps install
	scripts/example

test: deps
	scripts/run-tests

clean:
	rm -rf $(OUT)
	$(DOTNET) clean safemount.sln --nologo -v quiet
