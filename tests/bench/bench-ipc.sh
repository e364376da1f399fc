#!/bin/sh
# IPC figures: reliable read-sized JSON messages per second through the real
# client and server code, request/reply round trip p50/p99, and 1280x720
# frames per second passed as sealed memfds (no frame bytes copied).
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
echo "== IPC ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
exec "$top_builddir/tests/tools/ipc-peer" bench
