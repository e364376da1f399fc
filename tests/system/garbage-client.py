#!/usr/bin/python3
"""A garbage client for every socket of the suite (tests/system/201-faults.sh).

garbage-client.py RUNDIR [HTTP_PORT] [SEED]

For each *.sock in RUNDIR: random bytes, truncated and oversized messages,
well-formed headers with random types, flags and bodies, before and after a
HELLO; then a flood of silent connections (one more than a server admits)
that never say HELLO, which the daemon must close by itself within its
HELLO timeout; then a fresh connection must still get the daemon's HELLO.
With HTTP_PORT, the MDC page gets garbage requests too and must still
answer.  Prints what it injected; exits 1 if a daemon stopped answering or
kept a silent connection open.
"""
import glob
import os
import random
import select
import socket
import struct
import sys
import time

HDR = "=HBBIIIQ"
CONN_MAX = 64           # IPC_CONN_MAX in lib/ipc/ipc.h
HELLO_WAIT = 20.0       # the daemons close after 5 s; load makes it later


def msg(t, flags=0, seq=0, body=b"", magic=0xA1B5, version=1, length=None):
    n = 24 + len(body) if length is None else length
    return struct.pack(HDR, magic, version, t, flags, n, 0, seq) + body


def hello(path):
    role = b"ctl" if path.endswith("control.sock") else b"test"
    return msg(1, body=b'{"version":1,"role":"' + role +
               b'","name":"garbage","instance":"00000000000000ab"}')


def garbage(rng, path):
    """One hostile message (bytes)."""
    kind = rng.randrange(7)
    if kind == 0:
        return os.urandom(rng.randrange(1, 4096))
    if kind == 1:
        return hello(path)[:rng.randrange(1, 24)]
    if kind == 2:
        return msg(rng.randrange(256), rng.getrandbits(32), rng.getrandbits(64),
                   os.urandom(rng.randrange(0, 2048)))
    if kind == 3:
        return msg(rng.randrange(1, 10), 0, rng.getrandbits(16),
                   b'{"op":' + os.urandom(rng.randrange(0, 64)) + b"}")
    if kind == 4:
        return msg(rng.randrange(1, 10), length=rng.randrange(0, 1 << 20),
                   body=os.urandom(rng.randrange(0, 128)))
    if kind == 5:
        return msg(rng.randrange(1, 10), body=b"[" * rng.randrange(1, 5000))
    return msg(4, 1, 1, b'{"id":"' + os.urandom(16).hex().encode() + b'","plate":' +
               b'"\\u0000' * rng.randrange(1, 200) + b'"}')


def connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    return s


def send_quiet(s, data):
    try:
        s.send(data)
        return True
    except OSError:
        return False


def answers(path):
    """A fresh connection gets the daemon's HELLO."""
    for _ in range(3):
        try:
            s = connect(path, 15.0)
            m = s.recv(65536)
            s.close()
            if len(m) >= 24 and struct.unpack(HDR, m[:24])[2] == 1:
                return True
        except OSError:
            time.sleep(1)
    return False


def storm(path, rng, rounds):
    sent = 0
    for i in range(rounds):
        try:
            s = connect(path)
        except OSError:
            time.sleep(0.05)
            continue
        if i % 2 == 0:
            send_quiet(s, hello(path))
        for _ in range(rng.randrange(1, 6)):
            if send_quiet(s, garbage(rng, path)):
                sent += 1
        s.close()
    return sent


def silent_flood(path):
    """CONN_MAX + 1 connections that say nothing; returns (opened, closed by the daemon)."""
    conns = []
    for _ in range(CONN_MAX + 1):
        try:
            conns.append(connect(path))
        except OSError:
            break
    opened, closed = len(conns), 0
    deadline = time.monotonic() + HELLO_WAIT
    live = list(conns)
    while live and time.monotonic() < deadline:
        r, _, _ = select.select(live, [], [], 0.5)
        for s in r:
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if data == b"":
                closed += 1
                live.remove(s)
    for s in conns:
        s.close()
    return opened, closed


def http_garbage(port, rng, rounds):
    sent = 0
    for i in range(rounds):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            continue
        body = rng.choice([
            os.urandom(rng.randrange(1, 8192)),
            b"GET /" + b"A" * rng.randrange(1, 100000) + b" HTTP/1.1\r\n\r\n",
            b"POST /api/login HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n{",
            b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * rng.randrange(1, 3000) + b"\r\n",
            b"\r\n" * rng.randrange(1, 1000),
        ])
        try:
            s.sendall(body)
            sent += 1
        except OSError:
            pass
        s.close()
    return sent


def http_answers(port):
    for _ in range(10):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
            head = s.recv(64)
            s.close()
            if head.startswith(b"HTTP/1.") and b" 200 " in head:
                return True
        except OSError:
            pass
        time.sleep(1)
    return False


def main():
    rundir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else 0
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else os.getpid()
    rng = random.Random(seed)
    status = 0
    print("# garbage-client seed %d" % seed)
    socks = sorted(glob.glob(os.path.join(rundir, "*.sock")))
    if not socks:
        print("# no sockets in %s" % rundir)
        return 1
    for path in socks:
        name = os.path.basename(path)
        n = storm(path, rng, 200)
        opened, closed = silent_flood(path)
        ok = answers(path)
        print("# injected: %s: %d garbage messages, %d silent connections (%d closed by"
              " the daemon); answers afterwards: %s" % (name, n, opened, closed,
                                                        "yes" if ok else "NO"))
        if not ok or closed < opened:
            status = 1
    if port:
        n = http_garbage(port, rng, 100)
        ok = http_answers(port)
        print("# injected: MDC page 127.0.0.1:%d: %d garbage requests; answers afterwards: %s"
              % (port, n, "yes" if ok else "NO"))
        if not ok:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
