# packaging: the pkg-config file and public headers of libalpr (for
# libalpr-dev), and `make deb`.  Fragment of the top Makefile.am.

# libalpr.pc, made here rather than by configure so that configure.ac
# stays as it is.
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libalpr.pc
CLEANFILES += lib/libalpr.pc
EXTRA_DIST += lib/libalpr.pc.in
lib/libalpr.pc: $(srcdir)/lib/libalpr.pc.in Makefile
	$(AM_V_GEN)rm -f $@ $@.tmp && $(SED) -e 's|@prefix[@]|$(prefix)|g' \
		-e 's|@exec_prefix[@]|$(exec_prefix)|g' -e 's|@libdir[@]|$(libdir)|g' \
		-e 's|@includedir[@]|$(includedir)|g' -e 's|@VERSION[@]|$(VERSION)|g' \
		$(srcdir)/lib/libalpr.pc.in > $@.tmp && mv $@.tmp $@

# The public headers, under $(includedir)/patrol-alpr/MODULE/ so that their
# own #include "conf/conf.h" lines work.  Internal headers (conf-table.h,
# recognize/) stay out.  A module that grows a public header adds it here.
alprbaseincludedir = $(pkgincludedir)/base
alprbaseinclude_HEADERS = lib/base/log.h lib/base/time.h
alprconfincludedir = $(pkgincludedir)/conf
alprconfinclude_HEADERS = lib/conf/conf.h
alpripcincludedir = $(pkgincludedir)/ipc
alpripcinclude_HEADERS = lib/ipc/ipc.h
alprdaemonincludedir = $(pkgincludedir)/daemon
alprdaemoninclude_HEADERS = lib/daemon/daemon.h

# make deb: Debian packages of the source tree (tracked and new files, not
# ignored ones)
# in build/deb/.  The tree is copied aside so that dh's configure and
# clean never touch this build; packaging/debian goes to its ./debian,
# with Build-Depends and Depends filled from packaging/deps.txt.  The
# tests are not run again inside the package build (make check is its own
# goal); set DEB_BUILD_OPTIONS to change that.  Lintian must find no error
# and no warning that is not overridden with a reason.
DEB_DIR = build/deb
DEB_SRC = $(DEB_DIR)/$(PACKAGE)-$(VERSION)
DEB_BUILD_OPTIONS ?= nocheck parallel=2
.PHONY: deb deb-tree
deb-tree:
	rm -rf $(DEB_DIR) && $(MKDIR_P) $(DEB_SRC)
	if git -C $(top_srcdir) rev-parse --git-dir >/dev/null 2>&1; then \
		(cd $(top_srcdir) && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -c) | tar -x -C $(DEB_SRC); \
	else \
		$(MAKE) distdir distdir=$(DEB_SRC); \
	fi
	rm -rf $(DEB_SRC)/debian && cp -r $(top_srcdir)/packaging/debian $(DEB_SRC)/debian
	$(SHELL) $(top_srcdir)/packaging/mkcontrol $(top_srcdir)/packaging/deps.txt \
		$(DEB_SRC)/debian/control.in > $(DEB_SRC)/debian/control
	rm -f $(DEB_SRC)/debian/control.in
	@v=$$(dpkg-parsechangelog -l $(DEB_SRC)/debian/changelog -S Version); \
	if [ "$$v" != "$(VERSION)" ]; then \
		echo "make deb: packaging/debian/changelog is at $$v, VERSION at $(VERSION): add a changelog entry (dch -v $(VERSION))" >&2; \
		exit 1; \
	fi
deb: deb-tree
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS='$(DEB_BUILD_OPTIONS)' \
		dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	cd $(DEB_DIR) && lintian --fail-on error,warning --info \
		$(PACKAGE)_$(VERSION)_*.changes
	@ls -1 $(DEB_DIR)/*.deb

# make check-system: install, run, break and remove the packages in a
# Debian 12 VM (tests/vm/check-system.sh; root, qemu, mmdebstrap).  TAP
# on stdout, logs in build/vm/; tests/vm/check-system.trs for tests/summary.sh.
EXTRA_DIST += tests/vm
.PHONY: check-system
check-system: all
	@$(MKDIR_P) build
	@{ top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  $(SHELL) $(top_srcdir)/tests/vm/check-system.sh 2>&1; echo $$? > build/check-system.rc; } | \
	  tee build/check-system.log
	@$(MKDIR_P) tests/vm && $(AWK) '/^ok .*# SKIP/ || /^1\.\.0 # SKIP/ { print ":test-result: SKIP"; next } \
	  /^ok / { print ":test-result: PASS" } /^not ok / { print ":test-result: FAIL" }' \
	  build/check-system.log > tests/vm/check-system.trs
	@exit $$(cat build/check-system.rc)
CLEANFILES += tests/vm/check-system.trs
