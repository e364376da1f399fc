# lib/base: uses nothing else of ours.
lib_libalpr_la_SOURCES += lib/base/log.c lib/base/log.h lib/base/time.c lib/base/time.h \
	lib/base/latency.c lib/base/latency.h
