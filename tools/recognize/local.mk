# tools/recognize: alpr-recognize (issue 4).
bin_PROGRAMS += alpr-recognize
alpr_recognize_SOURCES = tools/recognize/alpr-recognize.c
# dummy.cxx makes automake link with the C++ driver (OpenCV needs libstdc++)
nodist_EXTRA_alpr_recognize_SOURCES = dummy.cxx
alpr_recognize_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-DALPR_MODEL_DIR=\"$(recognizemodelsdir)\"
alpr_recognize_LDADD = $(RECOGNIZE_LIBS)
dist_man_MANS += man/alpr-recognize.1

# Unit tests of the recognizer (rendered plates, hostile files).
check_PROGRAMS += tests/unit/test-recognize
tests_unit_test_recognize_SOURCES = tests/unit/test-recognize.c tests/unit/rec-test.h
nodist_EXTRA_tests_unit_test_recognize_SOURCES = dummy.cxx
tests_unit_test_recognize_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/lib/recognize \
	-DDRIVE_DIR=\"$(abs_top_builddir)/build/drive\"
tests_unit_test_recognize_LDADD = $(RECOGNIZE_LIBS) $(CMOCKA_LIBS)
TESTS += tests/unit/test-recognize
EXTRA_DIST += tests/data/plates

# make bench-recognition (and make bench): accuracy and speed on
# ../shared/data (DATA_DIR=..., SPLIT=a|b|all).
BENCHES += tests/bench/bench-recognition.sh
.PHONY: bench-recognition
bench-recognition: alpr-recognize
	DATA_DIR=$(DATA_DIR) $(SHELL) $(top_srcdir)/tests/bench/bench-recognition.sh
EXTRA_DIST += tests/bench/bench-recognition.py tests/bench/bench-recognition.sh
