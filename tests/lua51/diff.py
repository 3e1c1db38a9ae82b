#!/usr/bin/env python3
"""Differential test of slotkv's Lua 5.1 library against the reference
interpreter (Debian's lua5.1): each line of cases.txt is a Lua expression
list; both evaluate it inside pcall and serialise every value (type, tostring,
table contents with keys sorted), and the two texts must be equal. Error
messages are compared without their position prefix, and positions inside
messages are renamed to Redis's chunk name (`user_script:N:`). Lines marked
`known: ` are differences COMPATIBILITY.md lists: shown, never failed.

usage: diff.py HOST:PORT [cases.txt]     exit status 1 on any difference
"""
import os
import socket
import subprocess
import sys

SERIALISER = r"""
local function ser(v, depth)
  local t = type(v)
  if t == 'table' then
    if depth > 3 then return 'table:...' end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) and (type(a) == 'number' or type(a) == 'string') then return a < b end
      return type(a) < type(b)
    end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ser(k, depth + 1) .. '=' .. ser(v[k], depth + 1) end
    return '{' .. table.concat(parts, ',') .. '}'
  elseif t == 'string' then
    return string.format('%q', v)
  elseif t == 'function' or t == 'thread' or t == 'userdata' then
    return t
  end
  return t .. ':' .. tostring(v)
end
local function pack(...) return {n = select('#', ...), ...} end
local r = pack(pcall(function() return @EXPR@ end))
local out = {}
for i = 1, r.n do
  local v = r[i]
  if i == 2 and r[1] == false and type(v) == 'string' then
    v = string.gsub(v, '^[^:]*:%d+: ', '')
  end
  out[#out + 1] = ser(v, 0)
end
return table.concat(out, ' ')
"""


def lua51(expr):
    chunk = SERIALISER.replace("@EXPR@", expr)
    p = subprocess.run(["lua5.1", "-e", "io.write((function() " + chunk + " end)())"], capture_output=True)
    if p.returncode != 0:
        return "<lua5.1 failed: %s>" % p.stderr.decode("latin-1").strip()
    # Positions inside messages name the chunk as Redis does.
    return p.stdout.decode("latin-1").replace("(command line):", "user_script:")


class Conn:
    def __init__(self, hostport):
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)))
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise SystemExit("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def eval(self, body):
        args = [b"EVAL", body.encode("latin-1"), b"0"]
        self.s.sendall(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        head = self.line()
        if head[:1] == b"$":
            n = int(head[1:])
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode("latin-1")
        return "<reply %s>" % head.decode("latin-1")


def main():
    hostport = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "cases.txt")
    conn = Conn(hostport)
    cases = [l.rstrip("\n") for l in open(path, encoding="latin-1")]
    cases = [c for c in cases if c.strip() and not c.startswith("--")]
    failed = known = 0
    for case in cases:
        # "known: " marks a difference COMPATIBILITY.md lists (piccolo's VM):
        # shown, not failed.
        is_known = case.startswith("known: ")
        expr = case[len("known: "):] if is_known else case
        want, got = lua51(expr), conn.eval(SERIALISER.replace("@EXPR@", expr))
        if want != got:
            if is_known:
                known += 1
            else:
                failed += 1
            print("%s %s\n  lua5.1: %s\n  slotkv: %s" % ("KNOWN" if is_known else "DIFF", expr, want, got))
    print("%d cases, %d differ from lua5.1 (and %d known differences)" % (len(cases), failed, known))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
