#!/usr/bin/python3
"""Sends hand-made messages to a daemon's socket, for malformed-input tests.

rawpeer.py SOCKET CASE  prints "closed" when the daemon closed the
connection after the bad message, "open" if it is still open after 5 s.
The cases are the ways a message can be wrong (see lib/ipc/ipc.h).
"""
import array
import os
import socket
import struct
import sys

HDR = "=HBBIIIQ"


def msg(t, flags=0, seq=0, body=b"", magic=0xA1B5, version=1, length=None, reserved=0):
    n = 24 + len(body) if length is None else length
    return struct.pack(HDR, magic, version, t, flags, n, reserved, seq) + body


# control.sock admits only the roles of alprctl and alertd; the others admit test peers.
ROLE = b"ctl" if sys.argv[1].endswith("control.sock") else b"test"
HELLO = msg(1, body=b'{"version":1,"role":"' + ROLE + b'","name":"rawpeer","instance":"00000000000000aa"}')

CASES = {
    "garbage": [b"\xde\xad\xbe\xef garbage bytes, not a message"],
    "empty": [b""],
    "short": [HELLO[:20]],
    "long": [msg(9, body=b" " * 70000)],
    "magic": [msg(1, magic=0x1234, body=HELLO[24:])],
    "version": [msg(1, version=9, body=HELLO[24:])],
    "type": [HELLO, msg(200)],
    "length": [msg(1, length=500, body=HELLO[24:])],
    "flags": [HELLO, msg(9, flags=1 << 30)],
    "reserved": [msg(1, reserved=7, body=HELLO[24:])],
    "notjson": [msg(1, body=b"{not json")],
    "nohello": [msg(9, body=b'{"n":1}')],
    "badhello": [msg(1, body=b'{"version":1,"role":"king","name":"x","instance":"00000000000000aa"}')],
    "twohello": [HELLO, HELLO],
    "fdnoflag": [HELLO, ("fd", msg(9, body=b'{"n":1}'))],
    "flagnofd": [HELLO, msg(3, flags=2, body=b'{"n":1}')],
    "unknowntype": [HELLO, msg(5, flags=1, seq=1, body=b'{"hit":1}')],
}


def main():
    path, case = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.settimeout(5.0)
    s.recv(65536)  # the daemon's HELLO
    for m in CASES[case]:
        try:
            if isinstance(m, tuple):
                r, w = os.pipe()
                s.sendmsg([m[1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))])
                os.close(r)
                os.close(w)
            else:
                s.send(m)
        except OSError:
            print("closed")
            return
    try:
        while True:
            if s.recv(65536) == b"":
                print("closed")
                return
    except socket.timeout:
        print("open")
    except OSError:
        print("closed")


main()
