#!/usr/bin/env python3
"""misbehave.py MODE PORT CERT KEY - an SMTP server on 127.0.0.1:PORT that
misbehaves the way MODE says, for test_probe_servers.sh. One thread per
connection; runs until killed.

  drip    the greeting one byte a second
  bare    greeting "220 STARTTLS here", then a bare "250" to EHLO
  mixed   a greeting whose lines carry 554 then 220
  stall   STARTTLS accepted, then silence during the handshake
  reset   the TLS handshake completed, then a TCP reset
"""
import socket
import ssl
import struct
import sys
import threading
import time

MODE, PORT, CERT, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
TLS.load_cert_chain(CERT, KEY)


def until_starttls(c):
    """greeting and EHLO with STARTTLS, then 220 to STARTTLS"""
    c.sendall(b"220 misbehave ESMTP\r\n")
    c.recv(1000)
    c.sendall(b"250-misbehave\r\n250 STARTTLS\r\n")
    c.recv(1000)
    c.sendall(b"220 go ahead\r\n")


def serve(c):
    if MODE == "drip":
        for b in b"220 a greeting that takes a minute to arrive .....................\r\n":
            c.sendall(bytes([b]))
            time.sleep(1)
    elif MODE == "bare":
        c.sendall(b"220 STARTTLS here\r\n")
        c.recv(1000)
        c.sendall(b"250\r\n")
        got = c.recv(1000).strip()
        c.sendall(b"502 5.5.1 unexpected " + got + b"\r\n")
        time.sleep(1)
    elif MODE == "mixed":
        c.sendall(b"554-no service\r\n220 ok\r\n")
        c.recv(1000)
        c.sendall(b"250-x\r\n250 STARTTLS\r\n")
        c.recv(1000)
        c.sendall(b"220 go ahead\r\n")
        time.sleep(1)
    elif MODE == "stall":
        until_starttls(c)
        time.sleep(30)
    elif MODE == "reset":
        until_starttls(c)
        s = TLS.wrap_socket(c, server_side=True)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def handle(c):
    try:
        serve(c)
    except OSError:
        pass  # the probe gave up, as it should
    finally:
        c.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", PORT))
listener.listen(16)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
