# lib/conf: the configuration file (uses lib/base).
lib_libalpr_la_SOURCES += lib/conf/conf.c lib/conf/conf.h lib/conf/conf-table.h lib/conf/keys.c
