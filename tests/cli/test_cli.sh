#!/bin/sh
# test_cli - tlspolicyd -n, -V and --explain as an administrator runs them.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/cli/lib.sh"

D="$top_builddir/src/tlspolicyd"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/t.conf" <<'CONF'
socket = "inet:8895@127.0.0.1";
exempt = { clients = [ "127.0.0.0/8" ]; authenticated = true; };
policies = (
  { name = "gdpr"; recipient_domains = [ "gdpr.example", ".gdpr.example" ];
    level = "required"; min_tls_version = "TLSv1.2";
    ciphers = "HIGH:!aNULL:!kRSA"; min_cipher_bits = 128; },
  { name = "partner"; sender_domains = [ "partner.example" ]; level = "verified";
    cert_subject = "mx.partner.example"; action = "tempfail"; }
);
CONF

# -n: valid configurations
out=$("$D" -n -c "$top_srcdir/etc/tlspolicyd.conf" 2>&1); rc=$?
t_eq "-n accepts the shipped example" 0 "$rc"
out=$("$D" -n -c "$tmp/t.conf" 2>&1); rc=$?
t_eq "-n accepts a valid file" 0 "$rc"
t_match "-n names the file and hash" "^$tmp/t.conf: configuration OK \(hash [0-9a-f]{12}, 2 policies\)$" "$out"

# -n: broken configurations, FILE:LINE: message on stderr, exit 1
printf 'socket = "inet:8895@127.0.0.1";\npolicies = ( { name = "x"; level = "requried"; recipient_domains = ["a.example"]; } );\n' >"$tmp/bad.conf"
err=$("$D" -n -c "$tmp/bad.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses a bad level" 1 "$rc"
t_match "-n reports FILE:LINE for a bad level" "^$tmp/bad.conf:2: .*requried" "$err"
printf 'mode = "enforce"\npolicies = (\n' >"$tmp/syntax.conf"
err=$("$D" -n -c "$tmp/syntax.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses a syntax error" 1 "$rc"
t_match "-n reports FILE:LINE for a syntax error" "^$tmp/syntax.conf:[0-9]+: " "$err"
err=$("$D" -n -c "$tmp/missing.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses a missing file" 1 "$rc"
t_match "-n names the missing file" "$tmp/missing.conf" "$err"

# -n: a file cut short must not pass and quietly drop the required domains
: >"$tmp/empty.conf"
err=$("$D" -n -c "$tmp/empty.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses an empty file" 1 "$rc"
t_match "-n says the empty file is empty, at line 1" "^$tmp/empty.conf:1: the file is empty" "$err"
head -c 60 "$tmp/t.conf" >"$tmp/cut.conf"
err=$("$D" -n -c "$tmp/cut.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses a file cut inside a statement" 1 "$rc"
sed -n '1,2p' "$tmp/t.conf" >"$tmp/nopol.conf"
err=$("$D" -n -c "$tmp/nopol.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses a file cut before its policies" 1 "$rc"
t_match "-n says the policies list is missing, at line 1" "^$tmp/nopol.conf:1: no policies list: is the file cut short\\?" "$err"
printf 'socket = "inet:8895@127.0.0.1";\npolicies = ();\n' >"$tmp/nopol-ok.conf"
out=$("$D" -n -c "$tmp/nopol-ok.conf" 2>&1); rc=$?
t_eq "-n accepts an explicitly empty policies list" 0 "$rc"

# -n: Redis Sentinel: sentinels with master_name instead of servers
printf 'policies = ();\nstate = { backend = "redis"; master_name = "tp";\n  sentinels = [ "127.0.0.1:26379", "unix:/run/sentinel.sock" ]; };\n' >"$tmp/sen.conf"
out=$("$D" -n -c "$tmp/sen.conf" 2>&1); rc=$?
t_eq "-n accepts sentinels with a master_name" 0 "$rc"
printf 'policies = ();\nstate = { backend = "redis";\n  sentinels = [ "127.0.0.1:26379" ]; };\n' >"$tmp/sen1.conf"
err=$("$D" -n -c "$tmp/sen1.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses sentinels without a master_name" 1 "$rc"
t_match "...at the sentinels' line" "^$tmp/sen1.conf:3: sentinels: master_name is needed too" "$err"
printf 'policies = ();\nstate = { backend = "redis"; servers = [ "127.0.0.1:6379" ];\n  sentinels = [ "127.0.0.1:26379" ]; master_name = "tp"; };\n' >"$tmp/sen2.conf"
err=$("$D" -n -c "$tmp/sen2.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n refuses servers beside sentinels" 1 "$rc"
t_match "...at the servers' line" "^$tmp/sen2.conf:2: servers: not with sentinels" "$err"

# -n: files others may change (or, for the hash key, read) are warned about
printf 'gdpr.example\n' >"$tmp/domains.txt"
head -c 32 /dev/urandom >"$tmp/log.key"
cat >"$tmp/perm.conf" <<CONF
socket = "inet:8895@127.0.0.1";
log = { addresses = "hash"; hash_key_file = "$tmp/log.key"; };
policies = ( { name = "gdpr"; recipient_domains_file = "$tmp/domains.txt"; level = "required"; } );
CONF
chmod 0644 "$tmp/perm.conf" "$tmp/domains.txt"; chmod 0600 "$tmp/log.key"
err=$("$D" -n -c "$tmp/perm.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n: safe modes pass" 0 "$rc"
t_eq "-n: safe modes give no warning" "" "$err"
chmod 0666 "$tmp/perm.conf" "$tmp/domains.txt" "$tmp/log.key"
err=$("$D" -n -c "$tmp/perm.conf" 2>&1 >/dev/null); rc=$?
t_eq "-n: writable files are a warning, not an error" 0 "$rc"
t_match "-n warns about a world-writable configuration" "^$tmp/perm.conf: warning: the configuration file is writable by others \\(mode 0666\\)" "$err"
t_match "-n warns about a world-writable domain file" "^$tmp/domains.txt: warning: the domain file is writable by others" "$err"
t_match "-n warns about a world-writable hash key" "^$tmp/log.key: warning: the hash key file is writable by others" "$err"
t_match "-n warns about a world-readable hash key" "^$tmp/log.key: warning: the hash key file is readable by others" "$err"
chmod 0620 "$tmp/perm.conf"; chmod 0640 "$tmp/log.key" "$tmp/domains.txt"
err=$("$D" -n -c "$tmp/perm.conf" 2>&1 >/dev/null)
t_match "-n warns about a group-writable configuration" "^$tmp/perm.conf: warning: the configuration file is writable by group \\(mode 0620\\)" "$err"
t_eq "-n: a group-readable key is no warning" 1 "$(printf '%s\n' "$err" | grep -c warning)"

# -V
out=$("$D" -V); rc=$?
t_eq "-V exits 0" 0 "$rc"
t_match "-V names tlspolicyd" '^tlspolicyd [0-9]' "$out"
t_match "-V names libmilter" '^libmilter [0-9]+\.[0-9]+' "$out"
t_match "-V names OpenSSL" '^OpenSSL [0-9]' "$out"
t_match "-V names libconfig" '^libconfig [0-9]+\.[0-9]+' "$out"

# --explain: decisions as records, then the account
out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 rcpt='<u@gdpr.example>' rcpt='<v@other.example>'); rc=$?
t_eq "--explain exits 0" 0 "$rc"
t_match "--explain: plaintext to required is rejected" '^event=decision seq=1 instance=explain config=[0-9a-f]{12} qid=- action=reject would=- reason=plaintext policy=gdpr level=required mode=enforce rcpt=u@gdpr.example rcpt_domain=gdpr.example ' "$out"
t_match "--explain: reply in the record" 'reply="530 5\.7\.0 Must issue a STARTTLS command first: mail for <u@gdpr.example> \(domain gdpr.example\) requires TLS"$' "$out"
t_match "--explain: plaintext to other is allowed" '^event=decision seq=2 .* action=accept would=- reason=plaintext_allowed policy=default level=opportunistic ' "$out"
t_match "--explain: account names the policy" '^  policy gdpr \(line [0-9]+\): in force' "$out"
t_match "--explain: account gives the decision" '^  decision: reject, reason plaintext, policy gdpr' "$out"

out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 rcpt=u@gdpr.example)
t_match "--explain: static RSA refused by cipher string" ' action=reject would=- reason=cipher policy=gdpr .* tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 ' "$out"
out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 sender='<a@partner.example>' cert_subject='/O=Partner+20GmbH/CN=mx.partner.example' verify=OK rcpt=u@gdpr.example)
t_match "--explain: Sendmail-verified partner over TLS 1.3" ' action=accept would=- reason=tls_ok policy=gdpr,partner,default level=verified .* cert_verified=yes cert_subject="/O=Partner GmbH/CN=mx.partner.example" ' "$out"
out=$("$D" -c "$tmp/t.conf" --explain client_addr=127.0.0.1 rcpt=u@gdpr.example)
t_match "--explain: exempt client" ' action=accept would=- reason=exempt policy=- level=- ' "$out"

# --explain rcpt_addr: the MTA's resolved recipient, paired with rcpt in order
out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 rcpt='<u@other.example>' rcpt_addr=u@gdpr.example rcpt=v@other.example); rc=$?
t_eq "--explain rcpt_addr exits 0" 0 "$rc"
t_match "--explain: rcpt_addr in a required domain refuses, as the daemon does" '^event=decision seq=1 .* action=reject would=- reason=plaintext policy=gdpr .* rcpt=u@other.example rcpt_domain=other.example ' "$out"
t_match "--explain: the second rcpt has no rcpt_addr" '^event=decision seq=2 .* action=accept .* rcpt=v@other.example ' "$out"
t_match "--explain: the account names the rcpt_addr" '^Recipient <u@other.example> \(rcpt_addr u@gdpr.example\):$' "$out"
t_match "--explain: and the domain the MTA resolved" '^  recipient domain as resolved by the MTA: gdpr.example$' "$out"
out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 rcpt=v@other.example rcpt=u@gdpr.example)
t_match "--explain: records come in the daemon's order, refusals at RCPT" '^event=decision seq=1 .* action=reject .* rcpt=u@gdpr.example ' "$out"
t_match "--explain: and acceptances when the message ends" '^event=decision seq=2 .* action=accept .* rcpt=v@other.example ' "$out"
t_nomatch "--explain: no session record" '^event=session' "$out"
sed 's/^socket = .*/&\nlog = { format = "json"; };/' "$tmp/t.conf" >"$tmp/json.conf"
out=$("$D" -c "$tmp/json.conf" --explain client_addr=192.0.2.1 rcpt=v@other.example)
t_eq "--explain json: one decision record, no session record" 1 "$(printf '%s\n' "$out" | grep -c '^{"event"')"
err=$("$D" -c "$tmp/t.conf" --explain rcpt=u@gdpr.example rcpt_addr=a@b.example rcpt_addr=c@d.example 2>&1 >/dev/null); rc=$?
t_eq "--explain: more rcpt_addr than rcpt is a usage error" 2 "$rc"
t_match "--explain: and says how they pair" '2 rcpt_addr for 1 rcpt' "$err"

# --explain: hostile values cannot forge a field or a line
out=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 "helo=x reason=tls_ok
event=decision action=accept" rcpt=u@gdpr.example)
t_eq "--explain: one record line despite a newline in HELO" 1 "$(printf '%s\n' "$out" | grep -c '^event=')"
t_match "--explain: hostile HELO is quoted" ' helo="x reason=tls_ok\\nevent=decision action=accept" ' "$out"

# --explain: usage errors
err=$("$D" -c "$tmp/t.conf" --explain tls=TLSv1.2 rcpt=u@x.example 2>&1 >/dev/null); rc=$?
t_eq "--explain: unknown key is a usage error" 2 "$rc"
t_match "--explain: unknown key is named" 'unknown key "tls"' "$err"
err=$("$D" -c "$tmp/t.conf" --explain client_addr=192.0.2.1 2>&1 >/dev/null); rc=$?
t_eq "--explain: no rcpt is a usage error" 2 "$rc"
err=$("$D" -c "$tmp/t.conf" --explain client_addr=not-an-ip rcpt=u@x.example 2>&1 >/dev/null); rc=$?
t_eq "--explain: bad client_addr is a usage error" 2 "$rc"
"$D" -x >/dev/null 2>&1; rc=$?
t_eq "unknown flag is a usage error" 2 "$rc"

t_done
