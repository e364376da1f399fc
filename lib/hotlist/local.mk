# lib/hotlist: hot-list parsers and the matching index (uses lib/base).
lib_libalpr_la_SOURCES += lib/hotlist/hotlist.h lib/hotlist/internal.h lib/hotlist/entry.c \
	lib/hotlist/parse.c lib/hotlist/index.c
