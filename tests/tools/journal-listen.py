#!/usr/bin/python3
"""A stand-in for journald's native socket: binds PATH (SOCK_DGRAM) and
appends each entry it receives to OUT, entries separated by a blank line.
Usage: journal-listen.py PATH OUT SECONDS"""
import socket
import sys
import time

path, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
t0 = time.monotonic()
with open(out, "ab", buffering=0) as f:
    f.write(b"listening\n\n")
    while time.monotonic() - t0 < seconds:
        try:
            f.write(s.recv(65536) + b"\n\n")
        except socket.timeout:
            pass
