#!/bin/sh
# test_pinning - cert_fingerprint as an administrator meets it: -n errors and
# the warning, then --explain with the fingerprints the policy service passes.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

t_need openssl
D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A real certificate, so that the pins are what openssl prints for it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=mx.partner.example \
    -days 2 -keyout "$tmp/k.pem" -out "$tmp/c.pem" >/dev/null 2>&1 || t_bad "openssl makes a certificate" ""
fp256=$(openssl x509 -noout -fingerprint -sha256 -in "$tmp/c.pem" | sed 's/.*=//')
fp1=$(openssl x509 -noout -fingerprint -sha1 -in "$tmp/c.pem" | sed 's/.*=//')
key256=$(openssl x509 -noout -pubkey -in "$tmp/c.pem" | openssl pkey -pubin -outform DER |
    openssl dgst -sha256 | sed 's/.*= *//')
t_match "a SHA-256 fingerprint to pin" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "$fp256"
t_match "a SHA-256 public-key digest to pin" '^[0-9a-f]{64}$' "$key256"

cat >"$tmp/t.conf" <<CONF
socket = "inet:8895@127.0.0.1";
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example" ]; level = "required"; },
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_fingerprint = [ "SHA256:$fp256" ]; },
  { name = "keypin"; recipient_domains = [ "keypin.example" ]; level = "verified";
    action = "tempfail";
    cert_fingerprint = [ "sha256:$key256", "MD5:00112233445566778899aabbccddeeff" ]; }
);
CONF

# -n: valid, with one warning per pinned policy (no policy_socket configured)
out=$("$D" -n -c "$tmp/t.conf" 2>"$tmp/err"); rc=$?
t_eq "-n accepts pinned policies" 0 "$rc"
t_match "-n still says OK" "^$tmp/t.conf: configuration OK" "$out"
t_match "-n warns at the pinned policy's line" "^$tmp/t.conf:4: warning: policy partner pins certificates \(cert_fingerprint\), but no policy_socket is configured: .*through Postfix's milter this policy decides cert_mismatch$" "$(cat "$tmp/err")"
t_eq "-n warns once per pinned policy" 2 "$(grep -c 'pins certificates' "$tmp/err")"
out=$("$D" -n -c "$top_srcdir/etc/tlspolicyd.conf" 2>&1)
t_nomatch "-n: no pinning warning without pins" 'pins certificates' "$out"

# -n: broken pins, FILE:LINE
cat >"$tmp/bad.conf" <<'CONF'
policies = (
  { name = "a"; sender_domains = [ "a.example" ]; level = "verified";
    cert_fingerprint = [ "SHA256:00:11:22",
                         "00112233445566778899aabbccddeeff" ]; },
  { name = "b"; sender_domains = [ "b.example" ]; level = "required";
    cert_fingerprint = [ "MD5:00112233445566778899aabbccddeeff" ]; }
);
CONF
err=$("$D" -n -c "$tmp/bad.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses bad pins" 1 "$rc"
t_match "-n: a pin of the wrong length, at its line" "^$tmp/bad.conf:3: cert_fingerprint: invalid value \"SHA256:00:11:22\": 3 bytes, but a SHA256 fingerprint has 32" "$err"
t_match "-n: a pin without digest name, at its line" "^$tmp/bad.conf:4: cert_fingerprint: invalid value \"00112233445566778899aabbccddeeff\": no digest name" "$err"
t_match "-n: pins need level verified" "^$tmp/bad.conf:6: cert_fingerprint: has no effect at level required in policy \"b\" \(only at level verified\)" "$err"

TLS="client_addr=192.0.2.1 tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256"

# --explain: the certificate fingerprint as Postfix passes it (colons, upper case)
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_fingerprint="$fp256" rcpt=u@other.example); rc=$?
t_eq "--explain with cert_fingerprint exits 0" 0 "$rc"
t_match "--explain: pinned certificate accepted, and verified" '^event=decision .* action=accept would=- reason=tls_ok policy=partner,default level=verified .* cert_verified=yes ' "$out"
t_match "--explain: the account says the pin matched" "^  policy partner: a pin matches the client's certificate fingerprint$" "$out"
t_match "--explain: the summary shows the fingerprint" "certificate fingerprint SHA256:$fp256" "$out"
# the same, plain lower-case hex
plain=$(printf '%s' "$fp256" | tr -d : | tr 'A-F' 'a-f')
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_fingerprint="$plain" rcpt=u@other.example)
t_match "--explain: colons optional, case-insensitive" ' action=accept would=- reason=tls_ok policy=partner,default ' "$out"
# no fingerprint: as through Postfix's milter
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_subject=mx.partner.example rcpt=u@other.example)
t_match "--explain: no fingerprint is cert_mismatch, even for a CA-trusted certificate" ' action=reject would=- reason=cert_mismatch policy=partner .* cert_verified=yes .*reply="550 5\.7\.1 Verified client certificate required for mail to <u@other\.example> \(domain other\.example\): certificate fingerprint not accepted"$' "$out"
t_match "--explain: the account says none was passed" '^  policy partner: pins the certificate, but no fingerprint was passed$' "$out"
# another digest of the same certificate: never a match
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_fingerprint="$fp1" rcpt=u@other.example)
t_match "--explain: a SHA-1 fingerprint does not match a SHA-256 pin" ' action=reject .* reason=cert_mismatch policy=partner .* cert_verified=no ' "$out"
# the public key's fingerprint
out=$("$D" -c "$tmp/t.conf" --explain $TLS cert_fingerprint="$fp1" cert_pubkey_fingerprint="$key256" rcpt=u@keypin.example)
t_match "--explain: public-key pin accepted" ' action=accept would=- reason=tls_ok policy=keypin,default .* cert_verified=yes ' "$out"
t_match "--explain: the account says which fingerprint matched" "^  policy keypin: a pin matches the client's public key fingerprint$" "$out"
# two pinned policies in force: both must be met
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_fingerprint="$fp256" rcpt=u@keypin.example)
t_match "--explain: two pinned policies, one met: the other refuses" ' action=tempfail would=- reason=cert_mismatch policy=keypin .*reply="450 4\.7\.1 ' "$out"
out=$("$D" -c "$tmp/t.conf" --explain $TLS sender=a@partner.example cert_fingerprint="$fp256" cert_pubkey_fingerprint="$key256" rcpt=u@keypin.example)
t_match "--explain: two pinned policies, both met" ' action=accept would=- reason=tls_ok policy=partner,keypin,default ' "$out"
# a typo is a usage error, not a silent mismatch
err=$("$D" -c "$tmp/t.conf" --explain $TLS cert_fingerprint="AB:CD:E" rcpt=u@other.example 2>&1 >/dev/null); rc=$?
t_eq "--explain: an unparsable fingerprint is a usage error" 2 "$rc"
t_match "--explain: names the key" 'invalid value for cert_fingerprint: "AB:CD:E"' "$err"

# With a policy service (policy_socket in the file, or -s) nothing is warned about.
sed '1a policy_socket = "inet:127.0.0.1:10040";' "$tmp/t.conf" >"$tmp/policy.conf"
out=$("$D" -n -c "$tmp/policy.conf" 2>&1); rc=$?
t_eq "-n with policy_socket: valid" 0 "$rc"
t_nomatch "-n with policy_socket: no pinning warning" 'pins certificates' "$out"
out=$("$D" -n -s inet:127.0.0.1:10040 -c "$tmp/t.conf" 2>&1); rc=$?
t_eq "-n -s: valid" 0 "$rc"
t_nomatch "-n -s: no pinning warning" 'pins certificates' "$out"

# The policy service's own attributes, through --explain-policy-request
req() { # req RECIPIENT CCERT_FINGERPRINT CCERT_PUBKEY_FINGERPRINT
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.7\nclient_port=4711\n'
    printf 'instance=1a2b.3c\nsender=a@partner.example\nrecipient=%s\nencryption_protocol=TLSv1.3\n' "$1"
    printf 'encryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\nccert_subject=\nccert_issuer=\n'
    printf 'ccert_fingerprint=%s\nccert_pubkey_fingerprint=%s\n\n' "$2" "$3"
}
out=$(req u@other.example "$fp256" "" | "$D" -c "$tmp/policy.conf" --explain-policy-request -); rc=$?
t_eq "--explain-policy-request exits 0" 0 "$rc"
t_match "policy service: ccert_fingerprint matches the pin: DUNNO" '^action=DUNNO$' "$out"
t_match "policy service: accepted as verified" ' action=accept would=- reason=tls_ok policy=partner,default level=verified .* cert_verified=yes ' "$out"
out=$(req u@keypin.example "$fp256" "$(printf '%s' "$key256" | sed 's/../&:/g; s/:$//')" |
    "$D" -c "$tmp/policy.conf" --explain-policy-request -)
t_match "policy service: ccert_pubkey_fingerprint (with colons) matches the key pin" '^action=DUNNO$' "$out"
out=$(req u@other.example "" "" | "$D" -c "$tmp/policy.conf" --explain-policy-request -)
t_match "policy service: no fingerprint: 550 5.7.1" '^action=550 5\.7\.1 Verified client certificate required for mail to <u@other\.example> \(domain other\.example\): certificate fingerprint not accepted$' "$out"
t_match "policy service: no fingerprint: cert_mismatch record" ' action=reject would=- reason=cert_mismatch policy=partner ' "$out"

t_done
