#!/bin/bash
# test_probe_live - tlspolicy-probe --connect against a real Postfix on
# loopback, compared with the offline probe of the same certificates and
# the same server settings. Needs root (Postfix's master), postfix, openssl
# and jq.
#
# Postfix here (tests/e2e/lib.sh) serves smtpd_tls_ciphers = low with
# tls_low_cipherlist = ALL:@SECLEVEL=0, protocols >= TLSv1, and its
# default tls_eecdh_auto_curves (X25519 X448 prime256v1 secp521r1
# secp384r1); it does not prefer its own cipher order. The offline probe
# is given exactly that: --ciphers 'ALL:@SECLEVEL=0' --min-version TLSv1
# --groups X25519:X448:P-256:P-521:P-384, so that a difference between the
# two would be a difference of the probe, not of the settings.
#
# Two certificate setups: an ECDSA P-384 certificate only, then RSA beside
# it (smtpd_tls_chain_files). For each, every shipped profile's live
# result, version and cipher must equal the offline one; and the known
# breaks must show: rsa-only-tls12 and p256-only-tls12 fail with P-384
# only and pass once RSA is beside it. Postfix is restarted between the
# two, so that no smtpd process of the first setup serves the second.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/e2e/lib.sh"

D="$top_builddir/src/tlspolicyd"
P="$top_builddir/src/probe/tlspolicy-probe"
PROFILES="$top_srcdir/etc/tlspolicy-profiles.conf"
SHIPPED="modern-tls13 rsa-only-tls12 p256-only-tls12 tls10-only static-rsa-only-tls12"
POSTFIX_LIKE=(--ciphers 'ALL:@SECLEVEL=0' --min-version TLSv1 --groups X25519:X448:P-256:P-521:P-384)

t_need jq
[ -x "$P" ] || t_bad "tlspolicy-probe is built" "no $P"
[ "$t_fail" -eq 0 ] || { t_done; exit; }

CONF='
log = { ident = "tlspolicyd-e2e"; format = "kv"; };
default = { level = "opportunistic"; };
policies = ();'
e2e_start "$CONF" "e2e.example" || { t_done; exit; }

# An ECDSA P-384 certificate signed by the test CA.
(cd "$tmp/certs" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=mx.e2e.test \
    -keyout p384.key -out p384.csr &&
    openssl x509 -req -in p384.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out p384.pem &&
    chmod 644 p384.key p384.pem) >>"$tmp/certs.log" 2>&1 ||
    { t_bad "P-384 certificate" "$(tail -n 20 "$tmp/certs.log")"; t_done; exit; }

# pf_chain NAME FILES - restart Postfix serving smtpd_tls_chain_files = FILES
pf_chain() {
    pf_stop
    postconf -c "$tmp/pf" -e smtpd_tls_cert_file= smtpd_tls_key_file= "smtpd_tls_chain_files = $2"
    if no_syslog postfix -c "$tmp/pf" start >>"$tmp/postfix-start.log" 2>&1 && wait_listen "$SMTP_PORT" up; then
        t_ok "$1: postfix restarted with smtpd_tls_chain_files"
    else
        t_bad "$1: postfix restarted" "$(tail -n 20 "$tmp/postfix-start.log" "$tmp/maillog" 2>&1)"
        return 1
    fi
}

# jfield JSON PROFILE KEY - one key of one profile's result, "null" when absent
jfield() { printf '%s\n' "$1" | jq -r --arg p "$2" --arg k "$3" '.[] | select(.profile == $p) | .[$k] | tostring'; }

# compare NAME OFFLINE-ARGS... - live and offline results (ok, version,
# cipher, group) per shipped profile; sets live, live_rc
compare() {
    name=$1; shift
    live=$("$P" --profiles "$PROFILES" --connect "127.0.0.1:$SMTP_PORT" --starttls smtp --timeout 20 -f json)
    live_rc=$?
    off=$("$P" --profiles "$PROFILES" "$@" -f json)
    off_rc=$?
    t_eq "$name: live and offline exit status" "$off_rc" "$live_rc"
    t_eq "$name: live probe ran every profile" "5" "$(printf '%s\n' "$live" | jq length)"
    for p in $SHIPPED; do
        for k in ok version cipher group; do
            t_eq "$name: $p $k live = offline" "$(jfield "$off" "$p" "$k")" "$(jfield "$live" "$p" "$k")"
        done
    done
}

# ---- 1. ECDSA P-384 only
pf_chain "P-384 only" "$tmp/certs/p384.key, $tmp/certs/p384.pem" || { t_done; exit; }
compare "P-384 only" --cert "$tmp/certs/p384.pem" --key "$tmp/certs/p384.key" "${POSTFIX_LIKE[@]}"
t_eq "P-384 only: live exit status 1 (a must_pass profile failed)" 1 "$live_rc"
t_eq "P-384 only: rsa-only-tls12 fails live" false "$(jfield "$live" rsa-only-tls12 ok)"
t_eq "P-384 only: p256-only-tls12 fails live" false "$(jfield "$live" p256-only-tls12 ok)"
t_eq "P-384 only: modern-tls13 passes live over TLSv1.3" "true TLSv1.3" \
    "$(jfield "$live" modern-tls13 ok) $(jfield "$live" modern-tls13 version)"
t_match "P-384 only: the live failure is the alert the client received" "alert handshake failure" \
    "$(jfield "$live" rsa-only-tls12 error)"
t_match "P-384 only: Postfix logged the failed handshakes" "SSL_accept error from [^ ]*\[127\.0\.0\.1\]" \
    "$(cat "$tmp/maillog")"
t_match "P-384 only: Postfix logged the offline probe's reason, no shared cipher" \
    "TLS library problem: .*:no shared cipher:" "$(cat "$tmp/maillog")"

# ---- 2. RSA beside P-384
pf_chain "RSA + P-384" "$tmp/certs/server.key, $tmp/certs/server.pem, $tmp/certs/p384.key, $tmp/certs/p384.pem" ||
    { t_done; exit; }
compare "RSA + P-384" --cert "$tmp/certs/server.pem" --key "$tmp/certs/server.key" \
    --cert "$tmp/certs/p384.pem" --key "$tmp/certs/p384.key" "${POSTFIX_LIKE[@]}"
t_eq "RSA + P-384: live exit status 0" 0 "$live_rc"
t_eq "RSA + P-384: rsa-only-tls12 passes live with ECDHE-RSA-AES256-GCM-SHA384" \
    "true TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" \
    "$(jfield "$live" rsa-only-tls12 ok) $(jfield "$live" rsa-only-tls12 version) $(jfield "$live" rsa-only-tls12 cipher)"
t_eq "RSA + P-384: tls10-only passes live over TLSv1 (Postfix allows it here)" "true TLSv1" \
    "$(jfield "$live" tls10-only ok) $(jfield "$live" tls10-only version)"

# ---- 3. the live probe's own errors
"$P" --profiles "$PROFILES" --connect "127.0.0.1:$MILTER_PORT" --starttls smtp --timeout 2 \
    --profile modern-tls13 -f json >"$tmp/err.json" 2>&1
t_eq "no SMTP server (the milter's port): exit 2" 2 $?
t_eq "no SMTP server: ok is null" null "$(jfield "$(cat "$tmp/err.json")" modern-tls13 ok)"
closed=$(e2e_free_port)
out=$("$P" --profiles "$PROFILES" --connect "127.0.0.1:$closed" --starttls smtp --profile modern-tls13 2>&1)
t_eq "connection refused: exit 2" 2 $?
t_match "connection refused: reason shown" "error .*connect 127\.0\.0\.1:$closed: Connection refused" "$out"
out=$("$P" --profiles "$PROFILES" --connect "127.0.0.1:$SMTP_PORT" --cert x --key y 2>&1)
t_eq "--connect with --cert: usage error" 2 $?

t_done
