# systemd: units, sysusers and tmpfiles, fragment of the top Makefile.am.
#
# Units name programs and directories by their configured paths, so the
# ones that do are made from *.in here; the rest install as they are.  The
# directories come from systemd's pkg-config file (configure.ac).
SYSTEMD_UNITS_IN = \
	systemd/alpr-captured@.service systemd/alpr-captured@.socket \
	systemd/alpr-ocrd.service systemd/alpr-ocrd.socket \
	systemd/alpr-matchd.service systemd/alpr-matchd.socket \
	systemd/alpr-matchd-control.socket \
	systemd/alpr-alertd.service systemd/alpr-alertd.socket \
	systemd/alpr-purge.service
SYSTEMD_UNITS_PLAIN = systemd/alpr.target systemd/alpr-purge.timer

systemdsystemunit_DATA = $(SYSTEMD_UNITS_IN) $(SYSTEMD_UNITS_PLAIN)
dist_sysusers_DATA = systemd/alpr.sysusers
tmpfiles_DATA = systemd/alpr.tmpfiles
CLEANFILES += $(SYSTEMD_UNITS_IN) systemd/alpr.tmpfiles
EXTRA_DIST += $(SYSTEMD_UNITS_PLAIN) $(SYSTEMD_UNITS_IN:=.in) systemd/alpr.tmpfiles.in

# Debian's tools expect alpr.conf names: sysusers.d/patrol-alpr.conf and
# tmpfiles.d/patrol-alpr.conf.
install-data-hook: install-systemd-rename
install-systemd-rename:
	cd $(DESTDIR)$(sysusersdir) && mv -f alpr.sysusers patrol-alpr.conf
	cd $(DESTDIR)$(tmpfilesdir) && mv -f alpr.tmpfiles patrol-alpr.conf
uninstall-hook: uninstall-systemd-rename
uninstall-systemd-rename:
	rm -f $(DESTDIR)$(sysusersdir)/patrol-alpr.conf $(DESTDIR)$(tmpfilesdir)/patrol-alpr.conf

edit_units = $(SED) \
	-e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@runtimedir[@]|$(runtimedir)|g' -e 's|@statedir[@]|$(statedir)|g'
$(SYSTEMD_UNITS_IN) systemd/alpr.tmpfiles: Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && rm -f $@ $@.tmp && \
	$(edit_units) $(srcdir)/$@.in > $@.tmp && mv $@.tmp $@
systemd/alpr-captured@.service: $(srcdir)/systemd/alpr-captured@.service.in
systemd/alpr-captured@.socket: $(srcdir)/systemd/alpr-captured@.socket.in
systemd/alpr-ocrd.service: $(srcdir)/systemd/alpr-ocrd.service.in
systemd/alpr-ocrd.socket: $(srcdir)/systemd/alpr-ocrd.socket.in
systemd/alpr-matchd.service: $(srcdir)/systemd/alpr-matchd.service.in
systemd/alpr-matchd.socket: $(srcdir)/systemd/alpr-matchd.socket.in
systemd/alpr-matchd-control.socket: $(srcdir)/systemd/alpr-matchd-control.socket.in
systemd/alpr-alertd.service: $(srcdir)/systemd/alpr-alertd.service.in
systemd/alpr-alertd.socket: $(srcdir)/systemd/alpr-alertd.socket.in
systemd/alpr-purge.service: $(srcdir)/systemd/alpr-purge.service.in
systemd/alpr.tmpfiles: $(srcdir)/systemd/alpr.tmpfiles.in

# systemd's directories are absolute (/lib/systemd/...), outside a
# distcheck's prefix: point them into it.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	systemdsystemunitdir='$$(prefix)/lib/systemd/system' \
	sysusersdir='$$(prefix)/lib/sysusers.d' tmpfilesdir='$$(prefix)/lib/tmpfiles.d'

# systemd-analyze verify of every unit, and the rest of what the units
# promise, after an install into a temporary DESTDIR.
dist_check_SCRIPTS += tests/system/080-systemd-units.sh tests/system/units-lib.sh \
	tests/system/units-security.sh
TESTS += tests/system/080-systemd-units.sh

# `systemd-analyze security` exposure of every service (target: 2.0 or
# lower), also printed by `make bench`.
BENCHES += tests/system/units-security.sh
.PHONY: security-report
security-report: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/system/units-security.sh
