#!/usr/bin/env python3
"""smtp_spellings - send every spelling of spellings.txt as the RCPT TO
argument of its own message, all in one plaintext SMTP session; write
expect|name|stage|code|reply per spelling: the reply that refused it and
at which stage (rcpt; data: the DATA command, where a policy service
decides the recipients Postfix accepted without asking it; dot: the end
of the message), or the final "250 ... queued as ID" with stage dot.
Spellings that hold CR or LF are not one SMTP command and are left out
(written with stage and code "skip"). Every accepted spelling is its own
message, so that Postfix's log shows where each went and no spelling's
refusal at DATA takes another's message with it.

usage: smtp_spellings.py HOST PORT SPELLINGS OUT
"""
import re
import socket
import sys


def unescape(raw):
    """the printf %b escapes of spellings.txt: \\xHH, \\t, \\n, \\r, \\\\"""
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw):
            n = raw[i + 1]
            if n == "x" and re.match(r"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
                out.append(int(raw[i + 2:i + 4], 16))
                i += 4
                continue
            simple = {"t": 9, "n": 10, "r": 13, "\\": 92}
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


class Smtp:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.buf = b""

    def reply(self):
        """one whole reply: (code, text of its last line)"""
        while True:
            while b"\n" not in self.buf:
                data = self.sock.recv(4096)
                if not data:
                    raise EOFError("connection closed")
                self.buf += data
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r")
            if len(line) < 4 or line[3:4] != b"-":
                return line[:3].decode("ascii", "replace"), line.decode("utf-8", "replace")

    def cmd(self, data):
        self.sock.sendall(data + b"\r\n")
        return self.reply()


def outcome(s, rcpt):
    """(stage, code, reply) of one message to RCPT; MAIL is already sent"""
    code, text = s.cmd(b"RCPT TO:" + rcpt)
    if not code.startswith("2"):
        return "rcpt", code, text
    code, text = s.cmd(b"DATA")
    if code != "354":
        return "data", code, text
    s.sock.sendall(b"Subject: spelling\r\n\r\nspelling\r\n.\r\n")
    code, text = s.reply()
    return "dot", code, text


def main():
    host, port, spellings, outfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = Smtp(host, port)
    rows = []
    assert s.reply()[0] == "220"
    assert s.cmd(b"EHLO spellings.test")[0] == "250"
    in_mail = False
    with open(spellings, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            expect, name, raw = line.split("|", 2)
            rcpt = unescape(raw)
            if b"\r" in rcpt or b"\n" in rcpt:
                rows.append((expect, name, "skip", "skip", "not one SMTP command"))
                continue
            if not in_mail:
                assert s.cmd(b"MAIL FROM:<s@sender.example>")[0] == "250"
            stage, code, text = outcome(s, rcpt)
            # a refused RCPT leaves the transaction open for the next one;
            # after DATA it is over (sent), or reset (DATA refused)
            in_mail = stage == "rcpt"
            if stage == "data":
                assert s.cmd(b"RSET")[0] == "250"
            rows.append((expect, name, stage, code, text))
    s.cmd(b"QUIT")
    with open(outfile, "w", encoding="utf-8") as out:
        for row in rows:
            out.write("|".join(row) + "\n")


if __name__ == "__main__":
    main()
