# lib/daemon: the daemon skeleton (uses base, conf, ipc).
lib_libalpr_la_SOURCES += lib/daemon/daemon.c lib/daemon/daemon.h
