#!/usr/bin/python3
"""Syslog sink for the all-in-one Swift: read datagrams from a Unix socket, append them to a file.

Swift logs through syslog. Without a syslog daemon it falls back to UDP and leaves
sockets bound to 0.0.0.0, so every server's log_address points at the socket this
sink binds instead. Usage: logsink.py SOCKET LOGFILE
"""
import os
import re
import socket
import sys
import time

PRIORITY = re.compile(rb"^<\d+>")


def main():
    path, out = sys.argv[1], sys.argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(out, "ab", buffering=0) as f:
        while True:
            data = sock.recv(65536)
            line = PRIORITY.sub(b"", data.rstrip(b"\0\n"))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S ").encode()
            f.write(stamp + line + b"\n")


if __name__ == "__main__":
    main()
