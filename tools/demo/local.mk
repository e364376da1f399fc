# tools/demo: `make demo` runs the suite from the build tree (README.md);
# mdc-follow.py prints its reads, alerts and summary from the MDC page.
.PHONY: demo
demo: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tools/demo/demo.sh
EXTRA_DIST += tools/demo/demo.sh tools/demo/mdc-follow.py
dist_check_SCRIPTS += tests/system/091-demo.sh
TESTS += tests/system/091-demo.sh
BENCHES += tests/bench/bench-pipeline.sh
EXTRA_DIST += tests/bench/bench-pipeline.sh
# The README's picture of the MDC page during the demo (headless Chromium).
.PHONY: demo-screenshot
demo-screenshot: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tools/demo/screenshot.sh
EXTRA_DIST += tools/demo/screenshot.sh tools/demo/screenshot.js
