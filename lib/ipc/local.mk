# lib/ipc: framing, fd passing, connections (uses lib/base).
lib_libalpr_la_SOURCES += lib/ipc/ipc.h lib/ipc/msg.c lib/ipc/conn.c
