#!/usr/bin/env python3
"""Writes a corpus file of oracle_diff.py's random commands, keeping only the
commands slotkv implements (read from a running server's COMMAND LIST), so the
random mode can be held to zero mismatches while later commands are missing.

usage: random_subset.py ORACLE_DIFF_PY HOST:PORT N SEED > corpus.txt
"""
import importlib.util
import shlex
import socket
import sys


def command_list(hostport):
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)))
    s.sendall(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nLIST\r\n")
    f = s.makefile("rb")
    n = int(f.readline()[1:])
    names = set()
    for _ in range(n):
        ln = int(f.readline()[1:])
        names.add(f.read(ln + 2)[:-2].decode().upper())
    s.close()
    return names


def main():
    tool, hostport, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    spec = importlib.util.spec_from_file_location("oracle_diff", tool)
    od = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(od)
    have = command_list(hostport)
    for args, how in od.random_commands(n, seed):
        if args[0].upper() not in have:
            continue
        tags = ["[%s]" % how] if how else []
        if any(needs_escape(a) for a in args):
            tags.append("[esc]")
            args = [escape(a) for a in args]
        line = " ".join(shlex.quote(a) for a in args)
        print(" ".join(tags + [line]))


def needs_escape(a):
    return any(c in a for c in "\\\n\r\t") or any(ord(c) < 32 for c in a)


def escape(a):
    out = []
    for c in a:
        if c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif ord(c) < 32:
            out.append("\\x%02x" % ord(c))
        else:
            out.append(c)
    return "".join(out)


if __name__ == "__main__":
    main()
