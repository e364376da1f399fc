# tools/demo: `make demo` runs the suite from the build tree (README.md).
.PHONY: demo
demo: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tools/demo/demo.sh
EXTRA_DIST += tools/demo/demo.sh
