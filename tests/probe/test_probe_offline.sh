#!/bin/bash
# test_probe_offline - tlspolicy-probe's offline matrix: the shipped client
# profiles against certificates generated here (RSA 2048, ECDSA P-256,
# ECDSA P-384, RSA + P-384), in memory, no network. Each expected pass and
# fail of issue 12 is asserted case by case with the version, suite and
# OpenSSL's reason; then exit statuses, json, not-testable profiles,
# --profile, and --profile-from-record. Needs openssl and jq.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

P="$top_builddir/src/probe/tlspolicy-probe"
D="$top_builddir/src/tlspolicyd"
PROFILES="$top_srcdir/etc/tlspolicy-profiles.conf"

t_need openssl jq
[ -x "$P" ] || t_bad "tlspolicy-probe is built" "no $P"
[ -x "$D" ] || t_bad "tlspolicyd is built" "no $D"
[ "$t_fail" -eq 0 ] || { t_done; exit; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# ---- certificates
(
    cd "$tmp" || exit 1
    set -e
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rsa.test -keyout rsa.key -out rsa.pem
    for curve in P-256 P-384; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:$curve -nodes -days 2 -subj /CN=ec.test \
            -keyout $curve.key -out $curve.pem
    done
) >"$tmp/certs.log" 2>&1 || { t_bad "test certificates" "$(cat "$tmp/certs.log")"; t_done; exit; }
RSA=(--cert "$tmp/rsa.pem" --key "$tmp/rsa.key")
P256=(--cert "$tmp/P-256.pem" --key "$tmp/P-256.key")
P384=(--cert "$tmp/P-384.pem" --key "$tmp/P-384.key")

# probe NAME ARGS... - run the shipped profiles as json; sets out (the json) and rc;
# anything on stderr (a warning, a sanitizer's report) is a failure
probe() {
    name=$1; shift
    out=$("$P" --profiles "$PROFILES" -f json "$@" 2>"$tmp/$name.err")
    rc=$?
    [ -s "$tmp/$name.err" ] && t_bad "$name: nothing on stderr" "$(cat "$tmp/$name.err")"
}

# jfield PROFILE KEY - one key of one profile's result in $out, "null" when absent
jfield() { printf '%s\n' "$out" | jq -r --arg p "$1" --arg k "$2" '.[] | select(.profile == $p) | .[$k] | tostring'; }

# result CASE PROFILE OK VERSION CIPHER - ok, version and cipher of PROFILE in $out
result() {
    t_eq "$1: $2 ok=$3 $4 $5" "$3 $4 $5" "$(jfield "$2" ok) $(jfield "$2" version) $(jfield "$2" cipher)"
}

# reason CASE PROFILE SERVER-REASON CLIENT-REASON - the failure's reasons, both sides
reason() {
    t_eq "$1: $2 fails with the server's reason: $3" "$3" "$(jfield "$2" error)"
    t_eq "$1: $2 client saw: $4" "$4" "$(jfield "$2" client_error)"
}

# ---- 1. ECDSA P-384 only: the incident
probe p384 "${P384[@]}"
t_eq "P-384: exit 1 (must_pass profiles failed)" 1 "$rc"
result "P-384" rsa-only-tls12 false null null
reason "P-384" rsa-only-tls12 "no shared cipher" "sslv3 alert handshake failure"
result "P-384" p256-only-tls12 false null null
reason "P-384" p256-only-tls12 "no shared cipher" "sslv3 alert handshake failure"
result "P-384" modern-tls13 true TLSv1.3 TLS_AES_256_GCM_SHA384
t_eq "P-384: modern-tls13 group" x25519 "$(jfield modern-tls13 group)"
result "P-384" static-rsa-only-tls12 false null null
reason "P-384" static-rsa-only-tls12 "no shared cipher" "sslv3 alert handshake failure"
t_eq "P-384: rsa-only-tls12 offered without what OpenSSL lacks" '["RC4-SHA","DES-CBC3-SHA"]' \
    "$(printf '%s\n' "$out" | jq -c '.[] | select(.profile == "rsa-only-tls12") | .dropped')"
t_eq "json: every object has profile, ok, version, cipher, group, error" 5 \
    "$(printf '%s\n' "$out" | jq '[.[] | select(has("profile") and has("ok") and has("version") and has("cipher") and has("group") and has("error"))] | length')"
t_eq "json: profiles in file order" "modern-tls13 rsa-only-tls12 p256-only-tls12 tls10-only static-rsa-only-tls12" \
    "$(printf '%s\n' "$out" | jq -r '[.[].profile] | join(" ")')"

# ---- 2. RSA 2048
probe rsa "${RSA[@]}"
t_eq "RSA: exit 0 (tls10-only fails but need not pass)" 0 "$rc"
result "RSA" rsa-only-tls12 true TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384
result "RSA" p256-only-tls12 true TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256
t_eq "RSA: p256-only-tls12 group" secp256r1 "$(jfield p256-only-tls12 group)"
result "RSA" static-rsa-only-tls12 true TLSv1.2 AES256-GCM-SHA384
t_eq "RSA: static RSA negotiates no group" null "$(jfield static-rsa-only-tls12 group)"
result "RSA" modern-tls13 true TLSv1.3 TLS_AES_256_GCM_SHA384
# OpenSSL 3 at security level 1 signs nothing with TLS 1.0's MD5+SHA-1:
# the server fails and sends alert 80 (internal error).
result "RSA, default settings" tls10-only false null null
reason "RSA, default settings" tls10-only "no suitable signature algorithm" "tlsv1 alert internal error"
t_eq "RSA: tls10-only is must_pass = false" false "$(jfield tls10-only must_pass)"

# ---- 3. RSA with TLS 1.0 allowed at security level 0
probe legacy "${RSA[@]}" --ciphers 'ALL:@SECLEVEL=0' --min-version TLSv1
t_eq "RSA, ALL:@SECLEVEL=0, TLSv1: exit 0" 0 "$rc"
result "RSA, ALL:@SECLEVEL=0, TLSv1" tls10-only true TLSv1 ECDHE-RSA-AES256-SHA
t_eq "tls10-only: DES-CBC3-SHA dropped" '["DES-CBC3-SHA"]' \
    "$(printf '%s\n' "$out" | jq -c '.[] | select(.profile == "tls10-only") | .dropped')"
probe legacy12 "${RSA[@]}" --ciphers 'ALL:@SECLEVEL=0' --min-version TLSv1.2
result "RSA, ALL:@SECLEVEL=0, TLSv1.2" tls10-only false null null
reason "RSA, ALL:@SECLEVEL=0, TLSv1.2" tls10-only "unsupported protocol" "tlsv1 alert protocol version"
probe floor13 "${RSA[@]}" --min-version TLSv1.3
result "RSA, --min-version TLSv1.3" rsa-only-tls12 false null null
reason "RSA, --min-version TLSv1.3" rsa-only-tls12 "unsupported protocol" "tlsv1 alert protocol version"

# ---- 4. ECDSA P-256
probe p256 "${P256[@]}"
result "P-256" p256-only-tls12 true TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256
result "P-256" rsa-only-tls12 false null null
result "P-256" static-rsa-only-tls12 false null null
reason "P-256" static-rsa-only-tls12 "no shared cipher" "sslv3 alert handshake failure"

# ---- 5. RSA beside P-384: the remedy
probe both "${RSA[@]}" "${P384[@]}"
t_eq "RSA + P-384: exit 0" 0 "$rc"
result "RSA + P-384" rsa-only-tls12 true TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384
result "RSA + P-384" p256-only-tls12 true TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256
result "RSA + P-384" static-rsa-only-tls12 true TLSv1.2 AES256-GCM-SHA384
result "RSA + P-384" modern-tls13 true TLSv1.3 TLS_AES_256_GCM_SHA384

# ---- 6. the other facts of issue 12, as profiles of their own
cat >"$tmp/extra.conf" <<'CONF'
profiles = (
  { name = "p256-p384-tls12"; note = "p256-only-tls12 with secp384r1 offered too";
    min_version = "TLSv1.2"; max_version = "TLSv1.2"; groups = "secp256r1:secp384r1";
    ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"; },
  { name = "p256-only-tls13"; note = "TLS 1.3 with secp256r1 only";
    min_version = "TLSv1.3"; groups = "secp256r1"; },
  { name = "legacy-only"; note = "suites this OpenSSL cannot offer at all";
    max_version = "TLSv1.2"; ciphers = "RC4-SHA:DES-CBC3-SHA"; must_pass = false; }
);
CONF
out=$("$P" --profiles "$tmp/extra.conf" -f json "${P384[@]}"); rc=$?
result "P-384" p256-p384-tls12 true TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256
# The key exchange group is the client's first; the certificate's curve only had to be offered.
t_eq "P-384: p256-p384-tls12 group" secp256r1 "$(jfield p256-p384-tls12 group)"
result "P-384" p256-only-tls13 true TLSv1.3 TLS_AES_256_GCM_SHA384
t_eq "P-384: p256-only-tls13 group" secp256r1 "$(jfield p256-only-tls13 group)"
t_eq "not testable: ok is null" null "$(jfield legacy-only ok)"
t_eq "not testable: result" "not testable" "$(jfield legacy-only result)"
t_match "not testable: says why" "none of its TLS 1\.2 suites" "$(jfield legacy-only error)"
t_eq "not testable, must_pass = false: counted as neither pass nor fail (exit 0)" 0 "$rc"
sed 's/must_pass = false; }/}/' "$tmp/extra.conf" >"$tmp/extra-must.conf"
out=$("$P" --profiles "$tmp/extra-must.conf" -f json "${P384[@]}" 2>"$tmp/must.err"); rc=$?
t_eq "not testable, must_pass: exit 2 (the gate cannot vouch for it)" 2 "$rc"
t_eq "not testable, must_pass: still reported as not testable" "not testable" "$(jfield legacy-only result)"
t_eq "not testable, must_pass: named on stderr" \
    "tlspolicy-probe: profile legacy-only must pass but is not testable here: this OpenSSL can offer none of its TLS 1.2 suites" \
    "$(cat "$tmp/must.err")"
"$P" --profiles "$tmp/extra-must.conf" "${P384[@]}" --ciphers ECDHE-ECDSA-AES256-SHA --profile p256-p384-tls12 \
    >/dev/null 2>&1
t_eq "a must_pass failure alone: exit 1" 1 $?
"$P" --profiles "$tmp/extra-must.conf" "${P384[@]}" --ciphers ECDHE-ECDSA-AES256-SHA --profile p256-p384-tls12 \
    --profile legacy-only >/dev/null 2>&1
t_eq "not testable, must_pass, beside a must_pass failure: exit 2 wins" 2 $?
text=$("$P" --profiles "$tmp/extra.conf" "${P384[@]}")
t_match "text: not testable row" "^legacy-only +not testable +- +- +- " "$text"
t_match "text: dropped suites named" "^legacy-only: not offered, this OpenSSL lacks them: RC4-SHA DES-CBC3-SHA$" "$text"
t_match "text: summary" "^2 ok, 0 failed \(0 must pass\), 1 not testable, 0 errors$" "$text"

# ---- 7. text table, --profile, -o, must_pass = false
text=$("$P" --profiles "$PROFILES" "${P384[@]}" --profile rsa-only-tls12 --profile modern-tls13); rc=$?
t_eq "--profile: exit 1 (rsa-only-tls12 must pass)" 1 "$rc"
t_eq "--profile: only the named profiles, in the given order" "rsa-only-tls12 modern-tls13" \
    "$(printf '%s\n' "$text" | awk 'NR > 1 && NR <= 3 { printf "%s%s", s, $1; s = " " }')"
t_match "text: header" "^profile +result +version +cipher +group +reason$" "$text"
t_match "text: the failure and both reasons" \
    "^rsa-only-tls12 +FAIL +- +- +- +no shared cipher \(client: sslv3 alert handshake failure\)$" "$text"
t_match "text: the pass" "^modern-tls13 +ok +TLSv1\.3 +TLS_AES_256_GCM_SHA384 +x25519 +-$" "$text"
"$P" --profiles "$PROFILES" "${RSA[@]}" --profile modern-tls13 -f json -o "$tmp/out.json"
t_eq "-o FILE: exit 0" 0 $?
t_eq "-o FILE: the json is in the file" true "$(jq '.[0].ok' "$tmp/out.json")"
text=$("$P" --profiles "$PROFILES" "${RSA[@]}" --profile tls10-only); rc=$?
t_eq "must_pass = false: its failure gives exit 0" 0 "$rc"
t_match "must_pass = false: shown as fail, not FAIL" "^tls10-only +fail " "$text"
sed 's/must_pass = false;/must_pass = true;/' "$PROFILES" >"$tmp/strict.conf"
"$P" --profiles "$tmp/strict.conf" "${RSA[@]}" --profile tls10-only >/dev/null
t_eq "must_pass = true: the same failure gives exit 1" 1 $?

# ---- 8. usage and setup errors: exit 2
# usage2 NAME REGEX ARGS... - exit 2 and a message matching REGEX on stderr
usage2() {
    name=$1 re=$2; shift 2
    err=$("$P" "$@" 2>&1 >/dev/null)
    t_eq "$name: exit 2" 2 $?
    t_match "$name: message" "$re" "$err"
}
usage2 "unknown option" "unrecognized option" --profiles "$PROFILES" "${RSA[@]}" --bogus
usage2 "no certificate" "at least one --cert" --profiles "$PROFILES"
usage2 "--cert without --key" "each --cert needs its --key" --profiles "$PROFILES" --cert "$tmp/rsa.pem"
usage2 "missing certificate" "^tlspolicy-probe: --cert $tmp/nosuch\.pem: No such file or directory$" \
    --profiles "$PROFILES" --cert "$tmp/nosuch.pem" --key "$tmp/rsa.key"
usage2 "key of another certificate" "^tlspolicy-probe: --key $tmp/P-384\.key: not the key of --cert $tmp/rsa\.pem$" \
    --profiles "$PROFILES" --cert "$tmp/rsa.pem" --key "$tmp/P-384.key"
usage2 "two ECDSA certificates" "a second ECDSA certificate .*OpenSSL serves one per key type" \
    --profiles "$PROFILES" "${P256[@]}" "${P384[@]}"
usage2 "--ciphers OpenSSL refuses" "^tlspolicy-probe: --ciphers NOPE: no cipher match$" \
    --profiles "$PROFILES" "${RSA[@]}" --ciphers NOPE
usage2 "--min-version unknown" "--min-version TLSv9: expected TLSv1" --profiles "$PROFILES" "${RSA[@]}" --min-version TLSv9
usage2 "-f unknown" "-f must be text or json" --profiles "$PROFILES" "${RSA[@]}" -f xml
usage2 "--profile unknown" "--profile nope: no such profile in" --profiles "$PROFILES" "${RSA[@]}" --profile nope
usage2 "--starttls without --connect" "--starttls needs --connect" --profiles "$PROFILES" --starttls smtp
usage2 "profiles file missing" "^tlspolicy-probe: $tmp/none\.conf: cannot open: No such file or directory$" \
    --profiles "$tmp/none.conf" "${RSA[@]}"
cat >"$tmp/broken.conf" <<'CONF'
profiles = (
  { name = "a"; colour = "red"; },
  { name = "a"; min_version = "TLSv1.4"; },
  { name = "b c"; min_version = "TLSv1.3"; max_version = "TLSv1.2"; must_pass = "yes"; }
);
CONF
err=$("$P" --profiles "$tmp/broken.conf" "${RSA[@]}" 2>&1 >/dev/null)
t_eq "broken profiles file: exit 2" 2 $?
t_match "broken: unknown key" "^tlspolicy-probe: $tmp/broken\.conf:2: unknown key \"colour\" in a profile$" "$err"
t_match "broken: duplicate name" "^tlspolicy-probe: $tmp/broken\.conf:3: duplicate profile name \"a\" \(first defined at line 2\)$" "$err"
t_match "broken: bad version" "^tlspolicy-probe: $tmp/broken\.conf:3: min_version: invalid value \"TLSv1\.4\"" "$err"
t_match "broken: bad name" "^tlspolicy-probe: $tmp/broken\.conf:4: name: invalid value \"b c\"" "$err"
t_match "broken: min above max" "^tlspolicy-probe: $tmp/broken\.conf:4: max_version: TLSv1\.2 is below min_version TLSv1\.3$" "$err"
t_match "broken: wrong type" "^tlspolicy-probe: $tmp/broken\.conf:4: must_pass: expected true or false" "$err"
printf 'profiles = (\n  { name = "a" }\n' >"$tmp/syntax.conf"
usage2 "libconfig syntax error" "^tlspolicy-probe: $tmp/syntax\.conf:3: syntax error$" --profiles "$tmp/syntax.conf" "${RSA[@]}"
"$P" --help >/dev/null
t_eq "--help: exit 0" 0 $?

# ---- 9. a profile from what a record says a sender negotiated
rec=$("$D" -c "$top_srcdir/etc/tlspolicyd.conf" --explain client_addr=192.0.2.7 client_name=mx.partner.example \
    tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 sender='<a@partner.example>' \
    rcpt='<user@gdpr.example>' 2>&1 | grep '^event=decision ')
t_match "a real decision record" "tls_version=TLSv1\.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 " "$rec"
stanza=$("$P" --profile-from-record "$rec"); rc=$?
t_eq "--profile-from-record: exit 0" 0 "$rc"
t_match "--profile-from-record: named after the client" '^    name = "from-mx\.partner\.example";$' "$stanza"
t_match "--profile-from-record: version pinned" '^    max_version = "TLSv1\.2";$' "$stanza"
t_match "--profile-from-record: the one suite" '^    ciphers = "ECDHE-RSA-AES256-GCM-SHA384";$' "$stanza"
printf 'profiles = (\n%s\n);\n' "$stanza" >"$tmp/fromrec.conf"
out=$("$P" --profiles "$tmp/fromrec.conf" -f json "${RSA[@]}"); rc=$?
t_eq "the profile loads back and passes against RSA: exit 0" 0 "$rc"
result "RSA" from-mx.partner.example true TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384
out=$("$P" --profiles "$tmp/fromrec.conf" -f json "${P384[@]}")
result "P-384" from-mx.partner.example false null null
stanza=$("$P" --profile-from-record 'tls_version=TLSv1.3 cipher=TLS_AES_128_GCM_SHA256')
t_match "TLS 1.3 record: ciphersuites" '^    ciphersuites = "TLS_AES_128_GCM_SHA256";$' "$stanza"
plain=$("$D" -c "$top_srcdir/etc/tlspolicyd.conf" --explain client_addr=192.0.2.9 sender='<a@partner.example>' \
    rcpt='<user@gdpr.example>' 2>&1 | grep '^event=decision ')
usage2 "--profile-from-record of a plaintext record" "the session was not encrypted" --profile-from-record "$plain"
usage2 "--profile-from-record of a forged suite" "not an OpenSSL or IANA suite name" \
    --profile-from-record 'tls_version=TLSv1.2 cipher="x\";y"'
stanzas=$(printf 'Nov 22 14:31:52 mx tlspolicyd[7]: %s\n%s\n%s\nother program line\n' "$rec" "$rec" "$plain" |
    "$P" --profile-from-record -)
t_eq "--profile-from-record -: one profile per distinct sender and suite" 1 \
    "$(printf '%s\n' "$stanzas" | grep -c '^    name = ')"

# ---- 10. the offline server has DH parameters, as MTAs do
cat >"$tmp/dhe.conf" <<'CONF'
profiles = (
  { name = "dhe-only-tls12"; note = "TLS 1.2 with finite field DHE suites only";
    min_version = "TLSv1.2"; max_version = "TLSv1.2";
    ciphers = "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-SHA"; }
);
CONF
out=$("$P" --profiles "$tmp/dhe.conf" -f json "${RSA[@]}"); rc=$?
t_eq "DHE only against RSA: exit 0" 0 "$rc"
result "RSA" dhe-only-tls12 true TLSv1.2 DHE-RSA-AES256-GCM-SHA384
t_eq "DHE: the group is the server's RFC 3526 prime" modp_2048 "$(jfield dhe-only-tls12 group)"

# ---- 11. an encrypted key is refused, never asked for
openssl pkey -in "$tmp/rsa.key" -aes256 -passout pass:secret -out "$tmp/enc.key" 2>"$tmp/enc.log" ||
    t_bad "encrypted key made" "$(cat "$tmp/enc.log")"
err=$(timeout 20 "$P" --profiles "$PROFILES" --cert "$tmp/rsa.pem" --key "$tmp/enc.key" 2>&1 </dev/null >/dev/null)
t_eq "encrypted key: exit 2" 2 $?
t_eq "encrypted key: not supported" "tlspolicy-probe: --key $tmp/enc.key: encrypted key: not supported" "$err"

# ---- 12. a long cipher list is offered whole: its last suite is the one the server takes
long="ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:DHE-DSS-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-CCM8:ECDHE-ECDSA-AES256-CCM:DHE-RSA-AES256-CCM8:DHE-RSA-AES256-CCM:ECDHE-ECDSA-ARIA256-GCM-SHA384:ECDHE-ARIA256-GCM-SHA384:DHE-DSS-ARIA256-GCM-SHA384:DHE-RSA-ARIA256-GCM-SHA384:ADH-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-DSS-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-CCM:DHE-RSA-AES128-CCM8:DHE-RSA-AES128-CCM:ECDHE-ECDSA-ARIA128-GCM-SHA256:ECDHE-ARIA128-GCM-SHA256:DHE-DSS-ARIA128-GCM-SHA256:DHE-RSA-ARIA128-GCM-SHA256:ADH-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA256:DHE-DSS-AES256-SHA256:ECDHE-ECDSA-CAMELLIA256-SHA384:ECDHE-RSA-CAMELLIA256-SHA384:DHE-RSA-CAMELLIA256-SHA256:DHE-DSS-CAMELLIA256-SHA256:ADH-AES256-SHA256:ADH-CAMELLIA256-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:DHE-DSS-AES128-SHA256:ECDHE-ECDSA-CAMELLIA128-SHA256:ECDHE-RSA-CAMELLIA128-SHA256:DHE-RSA-CAMELLIA128-SHA256:DHE-DSS-CAMELLIA128-SHA256:ADH-AES128-SHA256:ADH-CAMELLIA128-SHA256:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES256-SHA:DHE-DSS-AES256-SHA:DHE-RSA-CAMELLIA256-SHA:DHE-DSS-CAMELLIA256-SHA:AECDH-AES256-SHA:ADH-AES256-SHA:ADH-CAMELLIA256-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:DHE-RSA-AES128-SHA:DHE-DSS-AES128-SHA:DHE-RSA-CAMELLIA128-SHA:DHE-DSS-CAMELLIA128-SHA:AECDH-AES128-SHA:ADH-AES128-SHA:ADH-CAMELLIA128-SHA:AES256-GCM-SHA384:AES256-CCM8:AES256-CCM:ARIA256-GCM-SHA384:AES128-GCM-SHA256:AES128-CCM8:AES128-CCM:ARIA128-GCM-SHA256:AES256-SHA256:CAMELLIA256-SHA256:AES128-SHA256:CAMELLIA128-SHA256:AES256-SHA:CAMELLIA256-SHA:CAMELLIA128-SHA:AES128-SHA"
bogus=$(for i in $(seq 1 40); do printf 'NO-SUCH-SUITE-%02d:' "$i"; done)
cat >"$tmp/long.conf" <<CONF
profiles = (
  { name = "long"; min_version = "TLSv1.2"; max_version = "TLSv1.2"; ciphers = "$long"; },
  { name = "bogus-then-aes"; max_version = "TLSv1.2"; ciphers = "${bogus}AES128-SHA"; }
);
CONF
t_eq "long list: longer than the old 1024-byte buffer" yes "$([ ${#long} -gt 1024 ] && echo yes)"
out=$("$P" --profiles "$tmp/long.conf" -f json "${RSA[@]}" --ciphers AES128-SHA); rc=$?
t_eq "long list against --ciphers AES128-SHA: exit 0" 0 "$rc"
result "RSA, AES128-SHA only" long true TLSv1.2 AES128-SHA
result "RSA, AES128-SHA only" bogus-then-aes true TLSv1.2 AES128-SHA
t_eq "40 unknown suites: every one listed as dropped" 40 \
    "$(printf '%s\n' "$out" | jq '.[] | select(.profile == "bogus-then-aes") | .dropped | length')"
t_eq "the last dropped suite is named whole" NO-SUCH-SUITE-40 \
    "$(printf '%s\n' "$out" | jq -r '.[] | select(.profile == "bogus-then-aes") | .dropped[39]')"

# ---- 13. --profile-from-record: IANA names, refused clients, unique names
stanza=$("$P" --profile-from-record 'tls_version=TLSv1.2 cipher=TLS_RSA_WITH_AES_128_CBC_SHA client_name=a.example'); rc=$?
t_eq "IANA suite name: exit 0" 0 "$rc"
t_match "IANA suite name: turned into OpenSSL's" '^    ciphers = "AES128-SHA";$' "$stanza"
t_match "IANA suite name: the record's name kept in the comment" \
    '^# From a tlspolicyd record: a\.example negotiated TLSv1\.2 with TLS_RSA_WITH_AES_128_CBC_SHA \(OpenSSL: AES128-SHA\)\.$' "$stanza"
printf 'profiles = (\n%s\n);\n' "$stanza" >"$tmp/iana.conf"
out=$("$P" --profiles "$tmp/iana.conf" -f json "${RSA[@]}"); rc=$?
t_eq "IANA profile against RSA: tested and passed (exit 0)" 0 "$rc"
result "RSA" from-a.example true TLSv1.2 AES128-SHA
usage2 "a client_name that is not a host name" \
    "^tlspolicy-probe: --profile-from-record: client_name is not a host name or address$" \
    --profile-from-record 'tls_version=TLSv1.2 cipher=AES128-SHA client_name=a/b.example'
long=mail-outbound-relay-cluster-node-01.eu-west-1.example-hosted
cut=from-$long.com
stanzas=$(printf '%s\n' "tls_version=TLSv1.2 cipher=AES128-SHA client_name=x-2" \
    "tls_version=TLSv1.2 cipher=AES256-SHA client_name=x" \
    "tls_version=TLSv1.2 cipher=AES256-SHA client_name=x" \
    "tls_version=TLSv1.2 cipher=AES128-SHA client_name=x" \
    "tls_version=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 client_name=$long.com" \
    "tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 client_name=$long.com" \
    "tls_version=TLSv1.2 cipher=AES128-SHA client_name=$long.net" |
    "$P" --profile-from-record -); rc=$?
t_eq "records on stdin: exit 0" 0 "$rc"
t_eq "records on stdin: exact names, a numeric suffix on collision, cut to 64 with the suffix" \
    "from-x-2 from-x from-x-3 ${cut:0:64} ${cut:0:62}-2 ${cut:0:62}-3" \
    "$(printf '%s\n' "$stanzas" | sed -n 's/^    name = "\(.*\)";$/\1/p' | tr '\n' ' ' | sed 's/ $//')"
t_eq "records on stdin: the full client name in the note" 1 \
    "$(printf '%s\n' "$stanzas" | grep -c "note = \"tlspolicyd record: $long.net negotiated")"
printf 'profiles = (\n%s\n);\n' "$(printf '%s\n' "$stanzas" | sed 's/^}$/},/' | sed '$ s/},/}/')" >"$tmp/stdin.conf"
"$P" --profiles "$tmp/stdin.conf" "${RSA[@]}" >/dev/null 2>"$tmp/stdin.err"
t_eq "records on stdin: the profiles load together (no duplicate name), all pass" "0 " "$? $(cat "$tmp/stdin.err")"
stanzas=$(printf '%s\n' "tls_version=TLSv1.2 cipher=AES128-SHA client_name=ok.example" \
    "tls_version=TLSv1.2 cipher=AES128-SHA client_name=bad!name" | "$P" --profile-from-record - 2>"$tmp/bad.err")
t_eq "records on stdin, one with a bad client_name: exit 2" 2 $?
t_eq "records on stdin: the bad one named on stderr" \
    "tlspolicy-probe: --profile-from-record -: line 2: client_name is not a host name or address" "$(cat "$tmp/bad.err")"
t_eq "records on stdin: the good one still printed" 1 "$(printf '%s\n' "$stanzas" | grep -c '^    name = "from-ok.example";$')"
awk 'BEGIN { for (i = 0; i < 40000; i++)
    printf "tls_version=TLSv1.2 cipher=AES128-SHA client_name=h%d.example client_addr=10.0.%d.%d\n", i, i / 256, i % 256 }' \
    >"$tmp/many.txt"
start=$(date +%s)
n=$("$P" --profile-from-record - <"$tmp/many.txt" | grep -c '^    name = ')
t_eq "40000 senders: 40000 profiles" 40000 "$n"
t_eq "40000 senders: in under 3 s (no quadratic name check)" yes "$([ $(($(date +%s) - start)) -lt 3 ] && echo yes)"

t_done
