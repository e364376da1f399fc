#!/usr/bin/python3
"""A NOTIFY_SOCKET the test owns: prints each datagram's lines with a
relative time stamp, until SECONDS pass.  Usage: notify-listen.py PATH SECONDS"""
import socket
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("listening", flush=True)
t0 = time.monotonic()
while time.monotonic() - t0 < seconds:
    s.settimeout(max(0.01, seconds - (time.monotonic() - t0)))
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    for line in data.decode(errors="replace").splitlines():
        print("%.3f %s" % (time.monotonic() - t0, line), flush=True)
