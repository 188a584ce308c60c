#!/usr/bin/env python3
"""policy_client.py - a Postfix policy delegation client for tests/integration/test_policy.sh.

Usage: policy_client.py SCENARIO --addr inet:HOST:PORT|unix:PATH [--log FILE] [--pid PID]
                        [--slow K] [--conf FILE] [NAME=VALUE ...]

Each scenario talks to a running tlspolicyd's policy socket as Postfix's
smtpd would (every attribute Postfix 3.8 sends, in its order), or as a
broken or hostile client would, and checks the replies and, where --log is
given, the records and notices the daemon wrote (the daemon runs with -f and
its output appended to FILE). It prints "ok - NAME" or "FAIL - NAME" with
what was seen, one line per assertion, and exits 1 when one failed.

Scenarios: ask (one request with the NAME=VALUE attributes; prints the
reply), valid, malformed, slow, half, idle, limit, flood, hold (a session left
open until the daemon closes the connection), reload (needs --conf and
--pid).
"""

import argparse
import os
import re
import resource
import select
import signal
import socket
import sys
import time

DEFER = "action=DEFER_IF_PERMIT 4.3.5 Malformed policy request"
ORDER = ["request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender", "recipient",
         "recipient_count", "client_address", "client_name", "reverse_client_name", "instance", "sasl_method",
         "sasl_username", "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
         "encryption_protocol", "encryption_cipher", "encryption_keysize", "etrn_domain", "stress",
         "ccert_pubkey_fingerprint", "client_port", "policy_context", "server_address", "server_port",
         "compatibility_level", "mail_version"]
BASE = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
        "helo_name": "mx.sender.example", "queue_id": "", "sender": "a@sender.example",
        "recipient": "v@other.example", "recipient_count": "0", "client_address": "192.0.2.7",
        "client_name": "mx.sender.example", "reverse_client_name": "mx.sender.example", "instance": "I1",
        "size": "0", "encryption_keysize": "0", "client_port": "40000", "server_address": "127.0.0.1",
        "server_port": "25", "compatibility_level": "3.6", "mail_version": "3.8.4"}
TLS13 = {"encryption_protocol": "TLSv1.3", "encryption_cipher": "TLS_AES_256_GCM_SHA384",
         "encryption_keysize": "256"}


def no_tls(rcpt, domain, code="530 5.7.0"):
    return "action=%s Must issue a STARTTLS command first: mail for <%s> (domain %s) requires TLS" % (
        code, rcpt, domain)


class Checks:
    """The assertions of one run: ok/FAIL lines, a count of failures."""

    def __init__(self):
        self.failed = 0

    def ok(self, name):
        print("ok - %s" % name, flush=True)

    def bad(self, name, detail):
        self.failed += 1
        print("FAIL - %s" % name)
        for line in str(detail).splitlines() or [""]:
            print("    %s" % line[:400])
        sys.stdout.flush()

    def eq(self, name, want, got):
        if want == got:
            self.ok(name)
        else:
            self.bad(name, "expected: %r\ngot:      %r" % (want, got))

    def true(self, name, cond, detail=""):
        if cond:
            self.ok(name)
        else:
            self.bad(name, detail)


def request(**kw):
    """Postfix's request with kw over BASE, as bytes, with its empty line."""
    a = dict(BASE)
    a.update(kw)
    return ("".join("%s=%s\n" % (k, a.get(k, "")) for k in ORDER) +
            "".join("%s=%s\n" % (k, v) for k, v in kw.items() if k not in ORDER) + "\n").encode()


def connect(addr, timeout=10.0, rcvbuf=0):
    """A connection to inet:HOST:PORT or unix:PATH; rcvbuf: a small receive buffer, set before connecting."""
    kind, _, rest = addr.partition(":")
    if kind == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = rest
    else:
        host, _, port = rest.rpartition(":")
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(target)
    return s


def read_reply(s):
    """One reply (up to its empty line), without the "\\n\\n"; None at end of file."""
    buf = b""
    while b"\n\n" not in buf:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return buf.decode(errors="replace") if buf else None
        buf += chunk
    head, _, rest = buf.partition(b"\n\n")
    if rest:
        raise RuntimeError("more than one reply at once: %r" % buf)
    return head.decode(errors="replace")


def ask(s, **kw):
    s.sendall(request(**kw))
    return read_reply(s)


class Log:
    """The daemon's output file: records and notices, read as they come."""

    def __init__(self, path, slow):
        self.path = path
        self.slow = slow

    def lines(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def wait(self, pred, secs=10.0):
        """The lines once pred(lines) holds, or None after secs (times slow)."""
        end = time.time() + secs * self.slow
        while True:
            lines = self.lines()
            if pred(lines):
                return lines
            if time.time() > end:
                return None
            time.sleep(0.05)

    def count(self, pattern):
        r = re.compile(pattern)
        return sum(1 for l in self.lines() if r.search(l))


def kv(line):
    """The fields of a kv record line, unquoted."""
    out = {}
    for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', line):
        v = m.group(2)
        if v.startswith('"'):
            v = re.sub(r"\\(.)", r"\1", v[1:-1])
        out[m.group(1)] = v
    return out


def records(lines, marker):
    """The records (decision and session) that mention client marker, in order."""
    return [kv(l) for l in lines if l.startswith("event=") and not l.startswith("event=notice")
            and kv(l).get("client_addr") == marker]


def check_fields(c, name, rec, want):
    bad = {k: (v, rec.get(k)) for k, v in want.items() if rec.get(k) != v}
    if bad:
        c.bad(name, "fields (want, got): %r\nrecord: %r" % (bad, rec))
    else:
        c.ok(name)


# ---- scenarios

def sc_ask(c, o):
    kw = dict(a.split("=", 1) for a in o.attrs)
    s = connect(o.addr)
    print(ask(s, **kw))
    s.close()


def sc_valid(c, o):
    """Postfix's dialogue: two SMTP sessions on one policy connection."""
    log = Log(o.log, o.slow)
    ip = "192.0.2.31"
    s = connect(o.addr)
    base = dict(client_address=ip, client_port="41001", instance="V1")
    c.eq("plaintext RCPT to a required domain: 530 5.7.0 and the milter's text",
         no_tls("u@gdpr.example", "gdpr.example"), ask(s, recipient="u@gdpr.example", **base))
    c.eq("plaintext RCPT to another domain: DUNNO", "action=DUNNO",
         ask(s, recipient="v@other.example", queue_id="VQ1", **base))
    c.eq("DATA: DUNNO", "action=DUNNO", ask(s, protocol_state="DATA", recipient="", queue_id="VQ1", **base))
    c.eq("END-OF-MESSAGE: DUNNO", "action=DUNNO",
         ask(s, protocol_state="END-OF-MESSAGE", recipient="", queue_id="VQ1", **base))
    base["instance"] = "V2"
    c.eq("a tempfail policy: 450 4.7.0", no_tls("s@soft.example", "soft.example", "450 4.7.0"),
         ask(s, recipient="s@soft.example", **base))
    c.eq("CONNECT, EHLO, MAIL: DUNNO", ["action=DUNNO"] * 3,
         [ask(s, protocol_state=st, recipient="", client_address=ip, client_port="41002")
          for st in ("CONNECT", "EHLO", "MAIL")])
    tls = dict(TLS13, client_address=ip, client_port="41002", instance="V3")
    c.eq("TLS 1.3 RCPT to the required domain: DUNNO", "action=DUNNO", ask(s, recipient="u@gdpr.example", **tls))
    c.eq("its END-OF-MESSAGE: DUNNO", "action=DUNNO",
         ask(s, protocol_state="END-OF-MESSAGE", recipient="", queue_id="VQ3", **tls))
    # The first session's record came with the other client_port; the second's comes with the close.
    lines = log.wait(lambda ls: len(records(ls, ip)) >= 5)
    c.true("the first session's records are written before the connection closes", lines is not None,
           "\n".join(l for l in log.lines() if ip in l))
    s.close()
    lines = log.wait(lambda ls: len(records(ls, ip)) >= 6) or log.lines()
    recs = records(lines, ip)
    c.eq("six records for the two sessions", 6, len(recs))
    want = [
        {"event": "decision", "action": "reject", "reason": "plaintext", "qid": "-", "rcpt": "u@gdpr.example",
         "tls_version": "none", "cipher": "-", "cipher_bits": "-", "helo": "mx.sender.example",
         "reply": no_tls("u@gdpr.example", "gdpr.example")[7:]},
        {"event": "decision", "action": "accept", "reason": "plaintext_allowed", "qid": "VQ1",
         "rcpt": "v@other.example", "sender": "a@sender.example"},
        {"event": "decision", "action": "tempfail", "reason": "plaintext", "qid": "-", "rcpt": "s@soft.example",
         "policy": "soft"},
        {"event": "session", "messages": "2", "rcpt_accepted": "1", "rcpt_rejected": "1",
         "rcpt_tempfailed": "1", "tls_version": "none", "cipher": "-", "cipher_bits": "-"},
        {"event": "decision", "action": "accept", "reason": "tls_ok", "qid": "VQ3", "rcpt": "u@gdpr.example",
         "tls_version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "cipher_bits": "256"},
        {"event": "session", "messages": "1", "rcpt_accepted": "1", "rcpt_rejected": "0",
         "tls_version": "TLSv1.3", "cipher_bits": "256"},
    ]
    for i, (rec, w) in enumerate(zip(recs, want)):
        check_fields(c, "record %d: %s" % (i + 1, " ".join("%s=%s" % kv_ for kv_ in list(w.items())[:4])), rec, w)


def expect_refused(c, o, name, payload, reason, log, chunked=False):
    """payload refused: the one DEFER_IF_PERMIT reply, the connection closed, a notice with reason."""
    before = log.count(r'malformed request refused')
    s = connect(o.addr)
    sent_error = None
    try:
        if chunked:
            for i in range(0, len(payload), 8192):
                s.sendall(payload[i:i + 8192])
        else:
            s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError) as e:
        sent_error = e  # the daemon closed while we were still sending: fine
    s.settimeout(10 * o.slow)
    reply = read_reply(s)
    try:
        rest = s.recv(100)
    except ConnectionResetError:
        rest = b""
    s.close()
    c.eq("%s: DEFER_IF_PERMIT 4.3.5" % name, DEFER, reply)
    c.eq("%s: then the connection is closed" % name, b"", rest)
    lines = log.wait(lambda ls: sum(1 for l in ls if "malformed request refused" in l) > before)
    new = [l for l in (lines or log.lines()) if "malformed request refused" in l][before:]
    c.true("%s: a notice says why (%s)" % (name, reason), any(reason in l for l in new),
           "notices: %r (sending: %r)" % (new, sent_error))
    s = connect(o.addr)
    c.eq("%s: the daemon still answers a new connection" % name, no_tls("u@gdpr.example", "gdpr.example"),
         ask(s, recipient="u@gdpr.example", client_address="192.0.2.250"))
    s.close()


def sc_malformed(c, o):
    log = Log(o.log, o.slow)
    head = b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
    expect_refused(c, o, "a line without '='", head + b"recipient\n\n", "line 3: no '=' in", log)
    expect_refused(c, o, "a NUL byte", head + b"recipient=a\0@gdpr.example\n\n", "NUL byte", log)
    expect_refused(c, o, "a CR before the newline", head + b"recipient=u@gdpr.example\r\n\r\n", "ends in CR", log)
    expect_refused(c, o, "an upper-case name", head + b"Recipient=u@gdpr.example\n\n", "invalid attribute name",
                   log)
    expect_refused(c, o, "a value of 4100 bytes", head + b"ccert_subject=" + b"x" * 4100 + b"\n\n",
                   "value of ccert_subject longer than 4096 bytes", log)
    expect_refused(c, o, "a value of 5000 bytes", head + b"recipient=" + b"x" * 5000 + b"\n\n",
                   "line longer than 4161 bytes", log)
    big = head + b"".join(b"a%d=%s\n" % (i, b"y" * 4000) for i in range(10)) + b"\n"
    expect_refused(c, o, "a request of 40 KiB", big, "request longer than 32768 bytes", log)
    expect_refused(c, o, "a line of 100 KB without a newline", head + b"recipient=" + b"z" * 100000,
                   "line longer than 4161 bytes", log, chunked=True)
    expect_refused(c, o, "a request that is not smtpd_access_policy",
                   b"request=junk\nprotocol_state=RCPT\n\n", "is not smtpd_access_policy", log)
    expect_refused(c, o, "an attribute twice", head + b"recipient=a@b\nrecipient=c@d\n\n", "sent twice", log)


def sc_slow(c, o):
    """A request dribbled over about 3 seconds is answered as a fast one."""
    data = request(recipient="u@gdpr.example", client_address="192.0.2.32")
    s = connect(o.addr)
    t0 = time.time()
    step = max(1, len(data) // 60)
    for i in range(0, len(data), step):
        s.sendall(data[i:i + step])
        time.sleep(0.05)
    reply = read_reply(s)
    c.true("the request took about 3 s to send", time.time() - t0 >= 2.5, "%.1f s" % (time.time() - t0))
    c.eq("a slow client is answered correctly", no_tls("u@gdpr.example", "gdpr.example"), reply)
    c.eq("the connection serves the next request", "action=DUNNO",
         ask(s, recipient="v@other.example", client_address="192.0.2.32"))
    s.close()


def sc_half(c, o):
    """Half a request, then the connection closed: no record at all."""
    log = Log(o.log, o.slow)
    data = request(recipient="u@gdpr.example", client_address="192.0.2.33")
    s = connect(o.addr)
    s.sendall(data[:len(data) // 2])
    time.sleep(0.3)
    s.close()
    s = connect(o.addr)
    s.sendall(data[:-1])  # everything but the empty line
    time.sleep(0.3)
    s.close()
    # A later session on a new connection: once its records are there, the
    # daemon has long handled the closes.
    s = connect(o.addr)
    c.eq("a later request is answered", "action=DUNNO", ask(s, client_address="192.0.2.34"))
    s.close()
    lines = log.wait(lambda ls: len(records(ls, "192.0.2.34")) >= 2) or log.lines()
    c.eq("the later session's records are written", 2, len(records(lines, "192.0.2.34")))
    c.eq("an abandoned request leaves no record", [], [l for l in lines if "192.0.2.33" in l])


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def threads_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Threads:\s*(\d+)", f.read(), re.M).group(1))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s*(\d+)", f.read(), re.M).group(1))


def fds_of(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settled_fds(o):
    """The daemon's descriptors once those of closed connections are gone (fewer than 100)."""
    end = time.time() + 10 * o.slow
    while fds_of(o.pid) >= 100 and time.time() < end:
        time.sleep(0.1)
    return fds_of(o.pid)


def sc_idle(c, o):
    """N idle persistent connections at once, and a new one still answered at once."""
    n = o.n
    raise_nofile(n + 100)
    base = settled_fds(o) if o.pid else 0
    idle = []
    for i in range(n):
        idle.append(connect(o.addr, timeout=30))
    # Every connection is accepted: each answers a request (a few are asked).
    time.sleep(0.5)
    t0 = time.time()
    s = connect(o.addr)
    reply = ask(s, recipient="u@gdpr.example", client_address="192.0.2.35")
    took = time.time() - t0
    s.close()
    c.eq("with %d idle connections open a new one is answered" % n, no_tls("u@gdpr.example", "gdpr.example"),
         reply)
    c.true("within 2 s", took < 2 * o.slow, "%.2f s" % took)
    sample = idle[::max(1, n // 20)] + idle[-1:]
    replies = [ask(x, recipient="v@other.example", client_address="192.0.2.36",
                   client_port=str(10000 + i)) for i, x in enumerate(sample)]
    c.eq("idle connections (%d of them asked, the last one among them) are served" % len(sample),
         ["action=DUNNO"] * len(sample), replies)
    if o.pid:
        fds = fds_of(o.pid)
        c.true("the daemon holds them all (%d descriptors open, %d before)" % (fds, base), fds >= base + n,
               "%d descriptors" % fds)
        t = threads_of(o.pid)
        c.true("the daemon serves them on a bounded number of threads (%d)" % t, t <= 12, "Threads: %d" % t)
    for x in idle:
        x.close()


def sc_limit(c, o):
    """--n connections (the daemon's POLICY_CONN_MAX) are served; one more is closed at once and logged."""
    log = Log(o.log, o.slow)
    n = o.n
    raise_nofile(n + 200)
    before = log.count(r"more than %d connections" % n)
    base = settled_fds(o)  # the earlier scenarios' connections are gone
    conns = [connect(o.addr, timeout=30) for _ in range(n)]
    fds = 0
    end = time.time() + 20 * o.slow
    while time.time() < end:  # until the acceptor has handed every one to a worker
        fds = fds_of(o.pid)
        if fds >= base + n:
            break
        time.sleep(0.1)
    c.true("%d connections are all accepted (%d descriptors, %d before)" % (n, fds, base), fds >= base + n,
           "%d descriptors" % fds)
    extra = connect(o.addr)
    extra.settimeout(10 * o.slow)
    try:
        extra.sendall(request(recipient="u@gdpr.example"))
        got = extra.recv(100)
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    extra.close()
    c.eq("one more is closed without an answer", b"", got)
    c.true("and a notice says so", log.wait(lambda ls: sum("more than %d connections" % n in l for l in ls) > before)
           is not None, "\n".join(log.lines()[-3:]))
    c.eq("the connections within the limit are served", "action=DUNNO", ask(conns[-1], client_address="192.0.2.43"))
    for x in conns[:10]:
        x.close()
    time.sleep(0.5 * o.slow)
    s = connect(o.addr)
    c.eq("once some close, a new connection is served again", no_tls("u@gdpr.example", "gdpr.example"),
         ask(s, recipient="u@gdpr.example", client_address="192.0.2.44"))
    s.close()
    for x in conns[10:]:
        x.close()


def sc_flood(c, o):
    """A client sends requests and reads no reply: it is throttled, nobody else is, memory stays bounded."""
    pid = o.pid
    rss0 = rss_kb(pid)
    # The shortest request there is: the most replies per byte sent, so
    # that the replies outgrow what the kernel buffers on both sides
    # (a few MiB) and the daemon's own output buffer has to hold them.
    one = b"request=smtpd_access_policy\nprotocol_state=CONNECT\n\n"
    blob = one * (o.n // len(one) + 1)
    s = connect(o.addr, rcvbuf=4096)
    s.setblocking(False)
    sent, last_progress, t0 = 0, time.time(), time.time()
    # Until the daemon has stopped reading for 2 s, or everything went.
    while sent < len(blob) and time.time() - last_progress < 2.0 * o.slow and time.time() - t0 < 60:
        _, w, _ = select.select([], [s], [], 0.2)
        if w:
            try:
                k = s.send(blob[sent:sent + 65536])
                if k > 0:
                    sent += k
                    last_progress = time.time()
            except BlockingIOError:
                pass
    c.true("the daemon stops reading from a client that reads no reply (%d of %d bytes taken)" %
           (sent, len(blob)), sent < len(blob), "it took all %d bytes" % sent)
    rss1 = rss_kb(pid)
    grew = rss1 - rss0
    print("# VmRSS before %d KiB, with the flooder stalled %d KiB (%d KiB more)" % (rss0, rss1, grew))
    c.true("its memory stays bounded: VmRSS grew less than %d MiB" % o.rss_mb, grew < o.rss_mb * 1024,
           "grew %d KiB" % grew)
    t1 = time.time()
    x = connect(o.addr)
    reply = ask(x, recipient="u@gdpr.example", client_address="192.0.2.38")
    took = time.time() - t1
    x.close()
    c.eq("another client is answered meanwhile", no_tls("u@gdpr.example", "gdpr.example"), reply)
    c.true("at once (%.2f s)" % took, took < 1.0 * o.slow, "%.2f s" % took)
    # Reading now: every complete request sent gets its reply, in order.
    want = sent // len(one)
    s.setblocking(True)
    s.settimeout(30 * o.slow)
    got = b""
    try:
        while got.count(b"\n\n") < want:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    c.eq("once it reads, it gets one DUNNO per complete request it sent (%d)" % want,
         (want, set([b"action=DUNNO"])), (got.count(b"\n\n"), set(got.split(b"\n\n")[:-1])))
    s.close()


def sc_hold(c, o):
    """A session left open: the reply, "ready", then wait until the daemon closes the connection."""
    s = connect(o.addr, timeout=120)
    c.eq("a session is open", "action=DUNNO", ask(s, client_address="192.0.2.39", instance="H1"))
    print("ready", flush=True)
    try:
        data = s.recv(100)
    except (ConnectionResetError, socket.timeout):
        data = b""
    c.eq("the daemon closes the connection when it stops", b"", data)


def sc_reload(c, o):
    """SIGHUP: a new policy applies to new sessions; the open one keeps its configuration."""
    log = Log(o.log, o.slow)
    s = connect(o.addr)
    ip = "192.0.2.40"
    c.eq("before the reload new.example has no policy", "action=DUNNO",
         ask(s, recipient="a@new.example", client_address=ip, client_port="1"))
    before = log.count(r"reloaded, hash")
    with open(o.conf) as f:
        text = f.read()
    with open(o.conf, "w") as f:
        f.write(text.replace("policies = (", 'policies = (\n  { name = "new"; recipient_domains = [ "new.example" ];'
                                              ' level = "required"; },', 1))
    os.kill(o.pid, signal.SIGHUP)
    c.true("the daemon says it reloaded", log.wait(lambda ls: sum("reloaded, hash" in l for l in ls) > before)
           is not None, "\n".join(log.lines()[-5:]))
    c.eq("the open session keeps the configuration it began with", "action=DUNNO",
         ask(s, recipient="b@new.example", client_address=ip, client_port="1"))
    c.eq("a new session on the same connection gets the new policy", no_tls("c@new.example", "new.example"),
         ask(s, recipient="c@new.example", client_address=ip, client_port="2"))
    s.close()
    s = connect(o.addr)
    c.eq("and so does a new connection", no_tls("d@new.example", "new.example"),
         ask(s, recipient="d@new.example", client_address=ip, client_port="3"))
    s.close()


SCENARIOS = {"ask": sc_ask, "valid": sc_valid, "malformed": sc_malformed, "slow": sc_slow, "half": sc_half,
             "idle": sc_idle, "limit": sc_limit, "flood": sc_flood, "hold": sc_hold, "reload": sc_reload}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--addr", required=True)
    p.add_argument("--log")
    p.add_argument("--pid", type=int)
    p.add_argument("--conf")
    p.add_argument("--slow", type=float, default=1.0, help="wait this many times longer (valgrind)")
    p.add_argument("--n", type=int, default=1000, help="idle: connections; flood: bytes to try to send")
    p.add_argument("--rss-mb", type=int, default=64, help="flood: allowed VmRSS growth")
    p.add_argument("attrs", nargs="*")
    o = p.parse_intermixed_args()
    c = Checks()
    try:
        SCENARIOS[o.scenario](c, o)
    except Exception as e:  # a dead daemon, a timeout: a failure, with what happened
        c.bad("%s ran to its end" % o.scenario, "%s: %s" % (type(e).__name__, e))
    sys.exit(1 if c.failed else 0)


if __name__ == "__main__":
    main()
