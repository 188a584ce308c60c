/*++
 * NAME
 *	test_config 1
 * SUMMARY
 *	configuration loader: broken files refused with FILE:LINE, valid ones loaded
 * DESCRIPTION
 *	Each broken configuration is a named case: the text is written to a
 *	file in a temporary directory, loaded, and the first error must be
 *	exactly the expected "FILE:LINE: message" (and, where nerr says so,
 *	the only one). "@F" in a case stands for the configuration file's
 *	path and "@D" for the temporary directory, where the fixtures live:
 *	good.txt (a valid domain file), bad.txt (line 3 is not a domain),
 *	log.key (32 bytes) and short.key (5 bytes).
 *--*/

/* System library. */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "config/cfgread.h"
#include "config/config.h"
#include "config/config_diff.h"

static char tmpdir[] = "/tmp/test_config.XXXXXX";

struct bad_case {
    const char *name;
    const char *text;
    const char *expect; /* the first error */
    size_t nerr;        /* 0: exactly one error; else at least this many */
};

/* A named policy whose body starts at line 5. */
#define POLICY(body)                                                                                         \
    "policies = (\n"                                                                                         \
    "  {\n"                                                                                                  \
    "    name = \"gdpr\";\n"                                                                                 \
    "    recipient_domains = [ \"gdpr.example\" ];\n" body "  }\n"                                           \
    ");\n"

#define INCLUDE_REFUSED                                                                                      \
    "@include is not supported: the configuration hash must cover every file"                                \
    " (use recipient_domains_file for long lists)"

#define X10(s)     s s s s s s s s s s
#define LONG_REPLY X10(X10("abc")) "x" /* 301 characters */

static const struct bad_case bad_cases[] = {
    /* Syntax and structure. */
    {"syntax error", "user = \"x\";\nmode = = \"enforce\";\n", "@F:2: syntax error", 0},
    /* Issue 17: a file cut short must not drop every policy. */
    {"empty file", "",
     "@F:1: the file is empty (or only comments): no policies, no default; refused, as a file"
     " cut short would drop every policy",
     0},
    {"only comments", "# socket = \"unix:/x\";\n/* c */\n",
     "@F:1: the file is empty (or only comments): no"
     " policies, no default; refused, as a file cut short would drop every policy",
     0},
    {"no policies list", "socket = \"inet:8895@127.0.0.1\";\ndefault = { level = \"opportunistic\"; };\n",
     "@F:1: no policies list: is the file cut short? write \"policies = ();\" to run with the default policy"
     " alone",
     0},
    {"unknown top-level key", "user = \"x\";\nsockt = \"unix:/x\";\n",
     "@F:2: unknown key \"sockt\" at top level", 0},
    {"unknown key in log", "log = {\n  facilty = \"mail\";\n};\n", "@F:2: unknown key \"facilty\" in log", 0},
    {"unknown key in exempt", "exempt = {\n  client = [ \"10.0.0.0/8\" ];\n};\n",
     "@F:2: unknown key \"client\" in exempt", 0},
    {"unknown key in default", "default = {\n  level = \"none\";\n  name = \"x\";\n};\n",
     "@F:3: unknown key \"name\" in default", 0},
    {"unknown key in policy", POLICY("    levle = \"required\";\n"),
     "@F:5: unknown key \"levle\" in policy \"gdpr\"", 2},
    {"unknown key in fallback", "fallback = {\n  enable = true;\n};\n",
     "@F:2: unknown key \"enable\" in fallback", 0},
    {"unknown key in state", "state = {\n  backend = \"lmdb\";\n  dir = \"/x\";\n};\n",
     "@F:3: unknown key \"dir\" in state", 0},
    /* Types: no conversion between libconfig types. */
    {"string for int", POLICY("    level = \"required\";\n    min_cipher_bits = \"128\";\n"),
     "@F:6: min_cipher_bits: expected an integer, got the string \"128\"", 0},
    {"int for string", "user = 5;\n", "@F:1: user: expected a string, got the integer 5", 0},
    {"scalar for list",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  recipient_domains = \"x.example\";\n} );\n",
     "@F:4: recipient_domains: expected a list of strings, got the string \"x.example\"", 0},
    {"string for bool", "exempt = { authenticated = \"yes\"; };\n",
     "@F:1: authenticated: expected true or false, got the string \"yes\"", 0},
    {"string for group", "log = \"syslog\";\n", "@F:1: log: expected a group, got the string \"syslog\"", 0},
    {"int in string list", "exempt = {\n  clients = ( \"10.0.0.0/8\",\n    5 );\n};\n",
     "@F:3: clients: element 2: expected a string, got the integer 5", 0},
    {"group for policies", "policies = { name = \"x\"; };\n",
     "@F:1: policies: expected a list of groups, got a group", 0},
    {"float for int", "state = { backend = \"redis\"; timeout_ms = 50.5; };\n",
     "@F:1: timeout_ms: expected an integer, got the number 50.5", 0},
    /* Enumerations. */
    {"bad mode", "mode = \"monitoring\";\n",
     "@F:1: mode: invalid value \"monitoring\" (expected enforce or monitor)", 0},
    {"bad level", POLICY("    level = \"requried\";\n"),
     "@F:5: level: invalid value \"requried\" (expected none, opportunistic, required or verified)", 0},
    {"bad action", POLICY("    level = \"required\";\n    action = \"rejekt\";\n"),
     "@F:6: action: invalid value \"rejekt\" (expected reject or tempfail)", 0},
    {"bad policy mode", POLICY("    level = \"required\";\n    mode = \"inherit\";\n"),
     "@F:6: mode: invalid value \"inherit\" (expected enforce or monitor)", 0},
    {"bad min_tls_version", POLICY("    level = \"required\";\n    min_tls_version = \"TLSv1.4\";\n"),
     "@F:6: min_tls_version: invalid value \"TLSv1.4\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", 0},
    {"bad facility", "log = { facility = \"local8\"; };\n",
     "@F:1: facility: invalid value \"local8\" (expected mail, daemon, user, local0, local1, local2, local3,"
     " local4, local5, local6 or local7)",
     0},
    {"bad format", "log = { format = \"xml\"; };\n",
     "@F:1: format: invalid value \"xml\" (expected kv or json)", 0},
    {"bad addresses", "log = { addresses = \"none\"; };\n",
     "@F:1: addresses: invalid value \"none\" (expected full, domain or hash)", 0},
    {"bad fallback key", "fallback = { key = \"client\"; };\n",
     "@F:1: key: invalid value \"client\" (expected client_domain, client_net, client_addr or sender_domain)",
     0},
    {"bad fallback action", "fallback = { action = \"defer\"; };\n",
     "@F:1: action: invalid value \"defer\" (expected tempfail, reject or log)", 0},
    {"bad fallback then", "fallback = { then = \"tempfail\"; };\n",
     "@F:1: then: invalid value \"tempfail\" (expected accept or reject)", 0},
    {"bad map_size", "state = {\n  map_size = \"64X\";\n};\n",
     "@F:2: map_size: invalid value \"64X\" (expected 1M to 1024G, with a K, M or G suffix)", 0},
    {"map_size too small", "state = { map_size = \"4K\"; };\n",
     "@F:1: map_size: invalid value \"4K\" (expected 1M to 1024G, with a K, M or G suffix)", 0},
    {"redis password file missing",
     "fallback = { enabled = true; };\nstate = {\n  backend = \"redis\";\n  password_file = "
     "\"/nonexistent/pw\";\n};\n",
     "@F:4: password_file: cannot read \"/nonexistent/pw\": No such file or directory", 0},
    {"redis password of two lines",
     "fallback = { enabled = true; };\nstate = { backend = \"redis\"; password_file = \"@D/two-lines.pw\"; "
     "};\n",
     "@F:2: password_file: \"@D/two-lines.pw\" must hold one line of 1 to 512 bytes", 0},
    {"redis db negative", "state = { backend = \"redis\"; db = -1; };\n",
     "@F:1: db: invalid value -1 (expected 0 or more)", 0},
    {"db with lmdb", "state = {\n  db = 2;\n};\n",
     "@F:2: db: only valid with backend \"redis\" (backend is \"lmdb\")", 0},
    {"bad backend", "state = { backend = \"redis-cluster\"; };\n",
     "@F:1: backend: invalid value \"redis-cluster\" (expected lmdb or redis)", 0},
    {"bad on_error", "state = { on_error = \"reject\"; };\n",
     "@F:1: on_error: invalid value \"reject\" (expected accept or tempfail)", 0},
    {"bad on_damage", "state = {\n  on_damage = \"ignore\";\n};\n",
     "@F:2: on_damage: invalid value \"ignore\" (expected reset or refuse)", 0},
    {"on_damage with redis", "state = { backend = \"redis\"; on_damage = \"refuse\"; };\n",
     "@F:1: on_damage: only valid with backend \"lmdb\" (backend is \"redis\")", 0},
    /* Addresses, durations, ciphers, domains. */
    {"cidr host bits", "exempt = { clients = [ \"10.1.2.3/8\" ]; };\n",
     "@F:1: clients: invalid address or network \"10.1.2.3/8\" (expected ADDRESS or ADDRESS/PREFIX with the "
     "host"
     " bits zero)",
     0},
    {"cidr prefix 33",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  client_addresses = [\n    \"192.0.2.0/33\" "
     "];\n} );\n",
     "@F:5: client_addresses: invalid address or network \"192.0.2.0/33\" (expected ADDRESS or ADDRESS/PREFIX"
     " with the host bits zero)",
     0},
    {"cidr junk", "exempt = { clients = [ \"::1\", \"mx.example\" ]; };\n",
     "@F:1: clients: invalid address or network \"mx.example\" (expected ADDRESS or ADDRESS/PREFIX with the "
     "host"
     " bits zero)",
     0},
    {"bad duration", "fallback = {\n  window = \"30x\";\n};\n",
     "@F:2: window: invalid duration \"30x\" (expected a positive number of seconds, or a number followed by "
     "s,"
     " m, h or d)",
     0},
    {"zero duration", "fallback = { defer_period = 0; };\n",
     "@F:1: defer_period: invalid duration 0 (expected a positive number of seconds, or a number followed by "
     "s,"
     " m, h or d)",
     0},
    {"rejected cipher string", POLICY("    level = \"required\";\n    ciphers = \"HIGH:!aNULL:+\";\n"),
     "@F:6: ciphers: OpenSSL rejects cipher string \"HIGH:!aNULL:+\"", 0},
    {"cipher string selecting nothing",
     POLICY("    level = \"required\";\n    ciphers = \"NO-SUCH-CIPHER\";\n"),
     "@F:6: ciphers: cipher string \"NO-SUCH-CIPHER\" selects no cipher", 0},
    {"rejected ciphersuites", POLICY("    level = \"required\";\n    ciphersuites = \"TLS_AES_512_GCM\";\n"),
     "@F:6: ciphersuites: ciphersuites string \"TLS_AES_512_GCM\" selects no cipher", 0},
    {"bad domain in list",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  sender_domains = [ \"ok.example\",\n"
     "    \"a..example\" ];\n} );\n",
     "@F:5: sender_domains: invalid domain \"a..example\": empty label", 0},
    {"missing domain file",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  recipient_domains_file = "
     "\"@D/nonexistent\";\n} );\n",
     "@F:4: recipient_domains_file: cannot read \"@D/nonexistent\": No such file or directory", 0},
    {"bad line in domain file",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  recipient_domains_file = \"@D/bad.txt\";\n} "
     ");\n",
     "@D/bad.txt:3: invalid domain \"bad..example\": empty label", 0},
    {"relative domain file",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  sender_domains_file = \"good.txt\";\n} );\n",
     "@F:4: sender_domains_file: \"good.txt\" is not an absolute path", 0},
    {"empty domain list",
     "policies = ( {\n  name = \"x\";\n  level = \"none\";\n  recipient_domains = [ ];\n} );\n",
     "@F:4: recipient_domains: must not be empty", 0},
    /* Policy structure. */
    {"duplicate policy name",
     "policies = (\n  { name = \"a\"; level = \"none\"; sender_domains = [ \"a.example\" ]; },\n"
     "  { name = \"a\"; level = \"none\"; sender_domains = [ \"b.example\" ]; }\n);\n",
     "@F:3: duplicate policy name \"a\" (first defined at line 2)", 0},
    {"missing name",
     "policies = (\n  {\n    level = \"none\";\n    sender_domains = [ \"a.example\" ];\n  }\n);\n",
     "@F:2: policy #1 has no name", 0},
    {"reserved name",
     "policies = ( {\n  name = \"default\";\n  level = \"none\";\n  sender_domains = [ \"a.example\" ];\n} "
     ");\n",
     "@F:2: name: \"default\" is reserved for the default group", 0},
    {"invalid name",
     "policies = ( {\n  name = \"gdpr rules\";\n  level = \"none\";\n  sender_domains = [ \"a.example\" "
     "];\n} );\n",
     "@F:2: name: invalid value \"gdpr rules\" (expected 1 to 64 letters, digits, '_', '.' or '-')", 0},
    {"missing level", POLICY(""),
     "@F:2: policy \"gdpr\" has no level (none, opportunistic, required or verified)", 0},
    {"no selector", "policies = (\n  {\n    name = \"lonely\";\n    level = \"required\";\n  }\n);\n",
     "@F:2: policy \"lonely\" has no selector (recipient_domains, sender_domains or client_addresses)", 0},
    {"min_tls_version at opportunistic",
     POLICY("    level = \"opportunistic\";\n    min_tls_version = \"TLSv1.2\";\n"),
     "@F:6: min_tls_version: has no effect at level opportunistic in policy \"gdpr\" (only at level required "
     "or"
     " verified)",
     0},
    {"ciphers in default at none", "default = {\n  level = \"none\";\n  ciphers = \"HIGH\";\n};\n",
     "@F:3: ciphers: has no effect at level none in default (only at level required or verified)", 0},
    {"cert_subject without verified",
     POLICY("    level = \"required\";\n    cert_subject = \"mx.gdpr.example\";\n"),
     "@F:6: cert_subject: has no effect at level required in policy \"gdpr\" (only at level verified)", 0},
    {"cert_fingerprint without verified",
     POLICY(
         "    level = \"required\";\n    cert_fingerprint = [ \"MD5:00112233445566778899aabbccddeeff\" ];\n"),
     "@F:6: cert_fingerprint: has no effect at level required in policy \"gdpr\" (only at level verified)",
     0},
    {"cert_fingerprint too short for its digest",
     POLICY("    level = \"verified\";\n    cert_fingerprint = [ \"SHA256:00:11:22\" ];\n"),
     "@F:6: cert_fingerprint: invalid value \"SHA256:00:11:22\": 3 bytes, but a SHA256 fingerprint has 32 (64"
     " hex digits)",
     0},
    {"cert_fingerprint without digest name",
     POLICY("    level = \"verified\";\n    cert_fingerprint = [ "
            "\"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\" ];\n"),
     "@F:6: cert_fingerprint: invalid value \"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\": no digest "
     "name"
     " (expected SHA256:, SHA1:, MD5: or SHA512: before the hex digits)",
     0},
    {"cert_fingerprint unknown digest, on its own line",
     POLICY("    level = \"verified\";\n    cert_fingerprint = [\n      "
            "\"MD5:00112233445566778899aabbccddeeff\",\n"
            "      \"SHA3-256:00\" ];\n"),
     "@F:8: cert_fingerprint: invalid value \"SHA3-256:00\": unknown digest \"SHA3-256\" (expected SHA256,"
     " SHA1, MD5 or SHA512)",
     0},
    {"cert_fingerprint not hex",
     POLICY("    level = \"verified\";\n    cert_fingerprint = [ "
            "\"SHA1:00112233445566778899aabbccddeeff0011223g\" ];\n"),
     "@F:6: cert_fingerprint: invalid value \"SHA1:00112233445566778899aabbccddeeff0011223g\": not hex "
     "digits at"
     " position 45 (expected pairs of hex digits, a colon allowed between two pairs)",
     0},
    {"cert_fingerprint empty", POLICY("    level = \"verified\";\n    cert_fingerprint = [ ];\n"),
     "@F:6: cert_fingerprint: must not be empty", 0},
    {"min_cipher_bits out of range", POLICY("    level = \"required\";\n    min_cipher_bits = 0;\n"),
     "@F:6: min_cipher_bits: invalid value 0 (expected 1 to 1024)", 0},
    {"reply not ASCII", POLICY("    level = \"required\";\n    reply = \"Gr\xc3\xbc\xc3\x9f\x65 an %d\";\n"),
     "@F:6: reply: byte 0xc3 at position 3 is not printable ASCII", 0},
    {"reply bad escape", POLICY("    level = \"required\";\n    reply = \"TLS for %s please\";\n"),
     "@F:6: reply: invalid escape \"%s\" at position 9 (only %d and %% are allowed)", 0},
    {"reply lone percent", POLICY("    level = \"required\";\n    reply = \"100%\";\n"),
     "@F:6: reply: lone \"%\" at position 4 (write %% for a percent sign)", 0},
    {"reply too long", POLICY("    level = \"required\";\n    reply = \"" LONG_REPLY "\";\n"),
     "@F:6: reply: 301 characters (expected 1 to 300)", 0},
    /* Log, state, daemon. */
    {"hash without key file", "log = {\n  addresses = \"hash\";\n};\n",
     "@F:2: addresses: \"hash\" needs hash_key_file", 0},
    {"hash key too short", "log = {\n  addresses = \"hash\";\n  hash_key_file = \"@D/short.key\";\n};\n",
     "@F:3: hash_key_file: \"@D/short.key\" holds 5 bytes, at least 16 are needed", 0},
    {"hash key missing", "log = {\n  addresses = \"hash\";\n  hash_key_file = \"@D/none.key\";\n};\n",
     "@F:3: hash_key_file: cannot read \"@D/none.key\": No such file or directory", 0},
    {"empty ident", "log = { ident = \"\"; };\n", "@F:1: ident: must not be empty", 0},
    {"relative log socket", "log = { socket = \"dev/log\"; };\n",
     "@F:1: socket: \"dev/log\" is not an absolute path", 0},
    {"log socket too long for sun_path",
     "log = { socket = "
     "\"/run/"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "\"; };\n",
     "@F:1: socket: longer than 107 bytes", 0},
    {"empty log socket", "log = { socket = \"\"; };\n", "@F:1: socket: must not be empty", 0},
    {"redis key with lmdb", "state = {\n  path = \"/var/lib/x\";\n  servers = [ \"127.0.0.1:6379\" ];\n};\n",
     "@F:3: servers: only valid with backend \"redis\" (backend is \"lmdb\")", 0},
    {"lmdb key with redis", "state = {\n  backend = \"redis\";\n  path = \"/var/lib/x\";\n};\n",
     "@F:3: path: only valid with backend \"lmdb\" (backend is \"redis\")", 0},
    {"bad redis server", "state = { backend = \"redis\"; servers = [ \"localhost\" ]; };\n",
     "@F:1: servers: invalid value \"localhost\" (expected HOST:PORT, PORT 1 to 65535, or unix:/PATH)", 0},
    {"relative redis socket", "state = { backend = \"redis\"; servers = [ \"unix:redis.sock\" ]; };\n",
     "@F:1: servers: invalid value \"unix:redis.sock\" (expected HOST:PORT, PORT 1 to 65535, or unix:/PATH)",
     0},
    {"sentinels without master_name",
     "state = { backend = \"redis\";\n  sentinels = [ \"127.0.0.1:26379\" ]; };\n",
     "@F:2: sentinels: master_name is needed too (the name the sentinels monitor)", 0},
    {"master_name without sentinels", "state = { backend = \"redis\";\n  master_name = \"tp\"; };\n",
     "@F:2: master_name: only with sentinels", 0},
    {"servers with sentinels",
     "state = { backend = \"redis\"; sentinels = [ \"127.0.0.1:26379\" ]; master_name = \"tp\";\n"
     "  servers = [ \"127.0.0.1:6379\" ]; };\n",
     "@F:2: servers: not with sentinels (the sentinels name the primary)", 0},
    {"bad sentinel",
     "state = { backend = \"redis\"; master_name = \"tp\"; sentinels = [ \"localhost\" ]; };\n",
     "@F:1: sentinels: invalid value \"localhost\" (expected HOST:PORT, PORT 1 to 65535, or unix:/PATH)", 0},
    {"bad master_name",
     "state = { backend = \"redis\"; sentinels = [ \"127.0.0.1:26379\" ]; master_name = \"a b\"; };\n",
     "@F:1: master_name: invalid value \"a b\" (expected 1 to 64 of A-Z a-z 0-9 . - _ :)", 0},
    {"sentinels with lmdb", "state = {\n  sentinels = [ \"127.0.0.1:26379\" ]; };\n",
     "@F:2: sentinels: only valid with backend \"redis\" (backend is \"lmdb\")", 0},
    {"timeout_ms zero", "state = { backend = \"redis\"; timeout_ms = 0; };\n",
     "@F:1: timeout_ms: invalid value 0 (expected 1 or more)", 0},
    {"negative max_deferrals", "fallback = { max_deferrals = -1; };\n",
     "@F:1: max_deferrals: invalid value -1 (expected 0 or more)", 0},
    {"bad socket", "socket = \"tcp:8895@127.0.0.1\";\n",
     "@F:1: socket: invalid value \"tcp:8895@127.0.0.1\" (expected unix:PATH, local:PATH, inet:PORT@HOST or"
     " inet6:PORT@HOST, PORT 1 to 65535)",
     0},
    {"socket port out of range", "socket = \"inet:65536@127.0.0.1\";\n",
     "@F:1: socket: invalid value \"inet:65536@127.0.0.1\" (expected unix:PATH, local:PATH, inet:PORT@HOST or"
     " inet6:PORT@HOST, PORT 1 to 65535)",
     0},
    {"socket without host", "socket = \"inet:8895\";\n",
     "@F:1: socket: invalid value \"inet:8895\" (expected unix:PATH, local:PATH, inet:PORT@HOST or"
     " inet6:PORT@HOST, PORT 1 to 65535)",
     0},
    /* Postfix's notation inet:HOST:PORT, not libmilter's PORT@HOST. */
    {"policy socket in milter notation", "user = \"x\";\npolicy_socket = \"inet:10040@127.0.0.1\";\n",
     "@F:2: policy_socket: invalid value \"inet:10040@127.0.0.1\" (expected inet:HOST:PORT, PORT 1 to 65535, "
     "or"
     " unix:PATH)",
     0},
    {"policy socket without port", "policy_socket = \"inet:127.0.0.1\";\n",
     "@F:1: policy_socket: invalid value \"inet:127.0.0.1\" (expected inet:HOST:PORT, PORT 1 to 65535, or"
     " unix:PATH)",
     0},
    {"mistyped policy socket", "policy_socket = 10040;\n",
     "@F:1: policy_socket: expected a string, got the integer 10040", 0},
    /* @include: the hash would not cover the included file. */
    {"include", "user = \"x\";\n@include \"@D/other.conf\"\n", "@F:2: " INCLUDE_REFUSED, 0},
    {"include indented in a group", "log = {\n \t @include \"/etc/x.conf\"\n};\n", "@F:2: " INCLUDE_REFUSED,
     0},
    {"include after a comment and a string",
     "/* a\n */\nuser = \"a\nb\"; # c\n@include \"x\"\n@include \"y\"\n", "@F:5: " INCLUDE_REFUSED, 2},
};

/* subst - expand @F and @D */
static void subst(const char *in, const char *file, char *out, size_t len)
{
    size_t o = 0;

    for (; *in && o + 1 < len; in++) {
        const char *rep = NULL;

        if (in[0] == '@' && in[1] == 'F')
            rep = file;
        else if (in[0] == '@' && in[1] == 'D')
            rep = tmpdir;
        if (rep == NULL) {
            out[o++] = *in;
            continue;
        }
        o += (size_t) snprintf(out + o, len - o, "%s", rep);
        in++;
    }
    out[o < len ? o : len - 1] = 0;
}

/* write_file - create path with the given contents */
static void write_file(const char *path, const char *text, size_t len)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* write_config - expand and write a case's text, return its path */
static void write_config(const char *name, const char *text, char *path, size_t len)
{
    char body[8192];

    snprintf(path, len, "%s/%s.conf", tmpdir, name);
    subst(text, path, body, sizeof(body));
    write_file(path, body, strlen(body));
}

/* fixture_path - a file in the temporary directory */
static const char *fixture_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
    return buf;
}

/* setup - the temporary directory and its fixtures */
static int setup(void **state)
{
    static const char good[] = "# partners\nexample.org\n.example.org\n\nb\xc3\xbc\x63her.example  # IDN\n";
    static const char bad[] = "good.example\n# comment\nbad..example\n";
    char path[PATH_MAX];

    (void) state;
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    write_file(fixture_path("good.txt", path, sizeof(path)), good, sizeof(good) - 1);
    write_file(fixture_path("bad.txt", path, sizeof(path)), bad, sizeof(bad) - 1);
    write_file(fixture_path("log.key", path, sizeof(path)), "0123456789abcdef0123456789abcdef", 32);
    write_file(fixture_path("short.key", path, sizeof(path)), "01234", 5);
    write_file(fixture_path("redis.pw", path, sizeof(path)), "s3cret\n", 7);
    write_file(fixture_path("two-lines.pw", path, sizeof(path)), "a\nb\n", 4);
    return 0;
}

/* teardown - remove every file written, then the directory */
static int teardown(void **state)
{
    char path[PATH_MAX];
    struct dirent *de;
    DIR *dir;

    (void) state;
    /* tmpdir was made by mkdtemp and holds only files this test wrote. */
    if ((dir = opendir(tmpdir)) == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlink(fixture_path(de->d_name, path, sizeof(path)));
    closedir(dir);
    return rmdir(tmpdir);
}

/* first_error - the formatted first error */
static void first_error(const struct tp_errlist *errs, char *buf, size_t len)
{
    assert_true(errs->n > 0);
    tp_error_format(&errs->items[0], buf, len);
}

/* test_bad_cases - every broken configuration is refused with its message */
static void test_bad_cases(void **state)
{
    char path[PATH_MAX], want[1024], got[1024];
    struct tp_errlist errs;
    struct config *cfg;
    size_t i, failures = 0;

    (void) state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char file[64];
        size_t k;

        snprintf(file, sizeof(file), "bad%02zu", i);
        write_config(file, c->text, path, sizeof(path));
        subst(c->expect, path, want, sizeof(want));
        tp_errlist_init(&errs);
        cfg = config_load(path, &errs);
        got[0] = 0;
        if (errs.n > 0)
            first_error(&errs, got, sizeof(got));
        if (cfg == NULL && strcmp(got, want) == 0 && (c->nerr ? errs.n >= c->nerr : errs.n == 1))
            continue;
        failures++;
        print_error("case \"%s\": loaded=%s nerr=%zu\n  want: %s\n", c->name, cfg ? "yes" : "no", errs.n,
                    want);
        for (k = 0; k < errs.n; k++) {
            tp_error_format(&errs.items[k], got, sizeof(got));
            print_error("  got:  %s\n", got);
        }
        config_free(cfg);
    }
    assert_int_equal(failures, 0);
}

/* test_missing_file - the file itself cannot be opened */
static void test_missing_file(void **state)
{
    char path[PATH_MAX], want[PATH_MAX + 64], got[PATH_MAX + 64];
    struct tp_errlist errs;

    (void) state;
    fixture_path("no-such.conf", path, sizeof(path));
    tp_errlist_init(&errs);
    assert_null(config_load(path, &errs));
    assert_int_equal(errs.n, 1);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    first_error(&errs, got, sizeof(got));
    assert_string_equal(got, want);
}

/* load_ok - load text that must be valid */
static struct config *load_ok(const char *name, const char *text)
{
    char path[PATH_MAX], got[1024];
    struct tp_errlist errs;
    struct config *cfg;
    size_t k;

    write_config(name, text, path, sizeof(path));
    tp_errlist_init(&errs);
    cfg = config_load(path, &errs);
    for (k = 0; k < errs.n; k++) {
        tp_error_format(&errs.items[k], got, sizeof(got));
        print_error("%s: unexpected error: %s\n", name, got);
    }
    assert_non_null(cfg);
    assert_int_equal(errs.n, 0);
    return cfg;
}

/* example_path - the shipped example, as make check finds it */
static const char *example_path(char *buf, size_t len)
{
    const char *top = getenv("top_srcdir");

    if (top && *top) {
        snprintf(buf, len, "%s/etc/tlspolicyd.conf", top);
        return buf;
    }
    /* Run by hand from the source tree's tests/unit or its top. */
    return access("../../etc/tlspolicyd.conf", R_OK) == 0 ? "../../etc/tlspolicyd.conf"
                                                          : "etc/tlspolicyd.conf";
}

/* test_shipped_example - etc/tlspolicyd.conf loads as it is installed */
static void test_shipped_example(void **state)
{
    char buf[PATH_MAX], got[1024];
    const char *path = example_path(buf, sizeof(buf));
    struct tp_errlist errs;
    struct config *cfg;
    size_t k;

    (void) state;
    tp_errlist_init(&errs);
    cfg = config_load(path, &errs);
    for (k = 0; k < errs.n; k++) {
        tp_error_format(&errs.items[k], got, sizeof(got));
        print_error("%s\n", got);
    }
    assert_non_null(cfg);
    assert_string_equal(cfg->path, path);
    assert_true(cfg->policies.npolicies >= 1);
    assert_string_equal(cfg->socket, "unix:/run/tlspolicyd/tlspolicyd.sock");
    config_free(cfg);
}

/* test_defaults - an empty file is the compiled-in configuration */
static void test_defaults(void **state)
{
    struct config *cfg = load_ok("empty", "# only the explicit empty list\npolicies = ();\n");
    const struct policy_set *ps = &cfg->policies;

    (void) state;
    assert_string_equal(cfg->socket, "unix:/run/tlspolicyd/tlspolicyd.sock");
    assert_false(cfg->socket_set); /* with policy_socket: the policy service alone */
    assert_null(cfg->policy_socket);
    assert_string_equal(cfg->pidfile, "/run/tlspolicyd/tlspolicyd.pid");
    assert_string_equal(cfg->user, "tlspolicyd");
    assert_int_equal(ps->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(cfg->log.facility, LOG_MAIL);
    assert_string_equal(cfg->log.facility_name, "mail");
    assert_string_equal(cfg->log.ident, "tlspolicyd");
    assert_int_equal(cfg->log.format, LOG_FORMAT_KV);
    assert_int_equal(cfg->log.addresses, LOG_ADDR_FULL);
    assert_null(cfg->log.hash_key);
    assert_int_equal(ps->exempt_clients.n, 0);
    assert_true(ps->exempt_authenticated);
    assert_string_equal(ps->dflt.name, "default");
    assert_int_equal(ps->dflt.level, TLS_LEVEL_OPPORTUNISTIC);
    assert_int_equal(ps->dflt.action, POLICY_ACTION_REJECT);
    assert_int_equal(ps->dflt.mode, POLICY_MODE_INHERIT);
    assert_int_equal(ps->npolicies, 0);
    assert_non_null(ps->rcpt_map);
    assert_non_null(ps->sender_map);
    assert_false(cfg->policies.fallback.enabled);
    assert_int_equal(cfg->state.map_size, 64UL << 20);
    assert_int_equal(cfg->policies.fallback.key, FB_KEY_CLIENT_DOMAIN);
    assert_int_equal(cfg->policies.fallback.window, 30L * 86400);
    assert_int_equal(cfg->policies.fallback.action, FB_ACTION_TEMPFAIL);
    assert_int_equal(cfg->policies.fallback.max_deferrals, 3);
    assert_int_equal(cfg->policies.fallback.defer_period, 6L * 3600);
    assert_int_equal(cfg->policies.fallback.then, FB_THEN_ACCEPT);
    assert_int_equal(cfg->state.backend, STATE_LMDB);
    assert_string_equal(cfg->state.path, "/var/lib/tlspolicyd");
    assert_null(cfg->state.servers);
    assert_int_equal(cfg->state.timeout_ms, 50);
    assert_string_equal(cfg->state.prefix, "tlspolicyd:");
    assert_null(cfg->state.password_file);
    assert_int_equal(cfg->state.on_error, STATE_ON_ERROR_ACCEPT);
    assert_int_equal(cfg->state.on_damage, STATE_ON_DAMAGE_RESET);
    assert_int_equal(strlen(cfg->hash), CONFIG_HASH_LEN);
    assert_int_equal(strspn(cfg->hash, "0123456789abcdef"), CONFIG_HASH_LEN);
    config_free(cfg);
}

static const char full_text[] =
    "socket = \"inet:8895@127.0.0.1\";\n"
    "policy_socket = \"inet:[::1]:10040\";\n"
    "pidfile = \"/tmp/tlspolicyd-test.pid\";\n"
    "user = \"nobody\";\n"
    "mode = \"monitor\";\n"
    "log = { facility = \"local3\"; ident = \"tpd\"; format = \"json\"; addresses = \"hash\";\n"
    "        hash_key_file = \"@D/log.key\"; };\n"
    "exempt = { clients = [ \"127.0.0.0/8\", \"::1\" ]; authenticated = false; };\n"
    "default = { level = \"required\"; min_tls_version = \"TLSv1.2\"; action = \"tempfail\";\n"
    "            reply = \"TLS please for %d (100%%)\"; };\n"
    "policies = (\n"
    "  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\", \".gdpr.example\" ];\n"
    "    recipient_domains_file = \"@D/good.txt\"; level = \"required\"; min_tls_version = \"TLSv1.3\";\n"
    "    ciphers = \"HIGH:!aNULL\"; ciphersuites = \"TLS_AES_256_GCM_SHA384\"; min_cipher_bits = 128;\n"
    "    action = \"reject\"; mode = \"enforce\"; },\n"
    "  { name = \"partner\"; sender_domains = [ \"partner.example\" ];\n"
    "    client_addresses = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; level = \"verified\";\n"
    "    cert_subject = \"mx.partner.example\"; cert_issuer = \"Partner CA\"; mode = \"monitor\"; }\n"
    ");\n"
    "fallback = { enabled = false; key = \"client_net\"; window = \"7d\"; action = \"log\";\n"
    "             max_deferrals = 0; defer_period = 5400; then = \"reject\"; };\n"
    "state = { backend = \"redis\"; servers = [ \"10.0.0.1:6379\", \"[::1]:6380\", "
    "\"unix:/run/redis/r.sock\" ];\n"
    "          timeout_ms = 100; db = 2;\n"
    "          prefix = \"t:\"; password_file = \"/etc/tlspolicyd/redis.pw\"; on_error = \"tempfail\"; };\n";

/* collect - domain_map_lookup callback: a bit per policy index */
static void collect(unsigned idx, void *arg)
{
    *(unsigned *) arg |= 1u << idx;
}

/* lookup - which policies a domain selects, as a bit set */
static unsigned lookup(const struct domain_map *map, const char *domain)
{
    char norm[DOMAIN_MAX + 1];
    struct tp_error err;
    unsigned found = 0;

    assert_int_equal(domain_normalize(domain, norm, &err), 0);
    domain_map_lookup(map, norm, collect, &found);
    return found;
}

/* client_in - does a CIDR list hold an address */
static bool client_in(const struct cidr_list *list, const char *addr)
{
    struct ip_addr ip;

    assert_int_equal(ip_addr_parse(addr, &ip), 0);
    return cidr_list_match(list, &ip);
}

/* test_values_daemon - top level, log and exempt keys land in their fields */
static void test_values_daemon(void **state)
{
    struct config *cfg = load_ok("full", full_text);
    const struct policy_set *ps = &cfg->policies;

    (void) state;
    assert_string_equal(cfg->socket, "inet:8895@127.0.0.1");
    assert_true(cfg->socket_set);
    assert_string_equal(cfg->policy_socket, "inet:[::1]:10040");
    assert_string_equal(cfg->pidfile, "/tmp/tlspolicyd-test.pid");
    assert_string_equal(cfg->user, "nobody");
    assert_int_equal(ps->mode, POLICY_MODE_MONITOR);
    assert_int_equal(cfg->log.facility, LOG_LOCAL3);
    assert_string_equal(cfg->log.facility_name, "local3");
    assert_string_equal(cfg->log.ident, "tpd");
    assert_int_equal(cfg->log.format, LOG_FORMAT_JSON);
    assert_int_equal(cfg->log.addresses, LOG_ADDR_HASH);
    assert_int_equal(cfg->log.hash_key_len, 32);
    assert_memory_equal(cfg->log.hash_key, "0123456789abcdef0123456789abcdef", 32);
    assert_true(client_in(&ps->exempt_clients, "127.1.2.3"));
    assert_true(client_in(&ps->exempt_clients, "::1"));
    assert_false(client_in(&ps->exempt_clients, "192.0.2.1"));
    assert_false(ps->exempt_authenticated);
    config_free(cfg);
}

/* test_values_policies - default and named policies, their maps and CIDRs */
static void test_values_policies(void **state)
{
    struct config *cfg = load_ok("full", full_text);
    const struct policy_set *ps = &cfg->policies;
    const struct policy *g = &ps->policies[0], *p = &ps->policies[1];

    (void) state;
    assert_int_equal(ps->dflt.level, TLS_LEVEL_REQUIRED);
    assert_int_equal(ps->dflt.min_version, TLS_V_TLS12);
    assert_int_equal(ps->dflt.action, POLICY_ACTION_TEMPFAIL);
    assert_string_equal(ps->dflt.reply, "TLS please for %d (100%%)");
    assert_int_equal(ps->dflt.line, 9);
    assert_int_equal(ps->npolicies, 2);
    assert_string_equal(g->name, "gdpr");
    assert_int_equal(g->line, 12);
    assert_int_equal(g->level, TLS_LEVEL_REQUIRED);
    assert_int_equal(g->min_version, TLS_V_TLS13);
    assert_string_equal(g->ciphers_str, "HIGH:!aNULL");
    assert_true(cipher_set_contains(g->ciphers, "ECDHE-RSA-AES256-GCM-SHA384"));
    assert_false(cipher_set_contains(g->ciphers, "TLS_AES_128_GCM_SHA256"));
    assert_string_equal(g->ciphersuites_str, "TLS_AES_256_GCM_SHA384");
    assert_true(cipher_set_contains(g->ciphersuites, "TLS_AES_256_GCM_SHA384"));
    assert_false(cipher_set_contains(g->ciphersuites, "TLS_AES_128_GCM_SHA256"));
    assert_int_equal(g->min_cipher_bits, 128);
    assert_int_equal(g->action, POLICY_ACTION_REJECT);
    assert_int_equal(g->mode, POLICY_MODE_ENFORCE);
    assert_null(g->reply);
    assert_true(g->by_rcpt);
    assert_false(g->by_sender);
    assert_false(g->by_client);
    assert_string_equal(p->name, "partner");
    assert_int_equal(p->level, TLS_LEVEL_VERIFIED);
    assert_int_equal(p->action, POLICY_ACTION_REJECT);
    assert_int_equal(p->mode, POLICY_MODE_MONITOR);
    assert_string_equal(p->cert_subject, "mx.partner.example");
    assert_string_equal(p->cert_issuer, "Partner CA");
    assert_null(p->ciphers);
    assert_int_equal(p->min_version, TLS_V_NONE);
    assert_false(p->by_rcpt);
    assert_true(p->by_sender);
    assert_true(p->by_client);
    assert_true(client_in(&p->clients, "192.0.2.77"));
    assert_true(client_in(&p->clients, "2001:db8:1::25"));
    assert_false(client_in(&p->clients, "198.51.100.1"));
    /* gdpr.example, .gdpr.example and the three rules of good.txt */
    assert_int_equal(domain_map_size(ps->rcpt_map), 5);
    assert_int_equal(domain_map_size(ps->sender_map), 1);
    assert_int_equal(lookup(ps->rcpt_map, "GDPR.example."), 1u << 0);
    assert_int_equal(lookup(ps->rcpt_map, "mail.gdpr.example"), 1u << 0);
    assert_int_equal(lookup(ps->rcpt_map, "sub.example.org"), 1u << 0);
    assert_int_equal(lookup(ps->rcpt_map, "xn--bcher-kva.example"), 1u << 0);
    assert_int_equal(lookup(ps->rcpt_map, "partner.example"), 0);
    assert_int_equal(lookup(ps->sender_map, "partner.example"), 1u << 1);
    assert_int_equal(lookup(ps->sender_map, "gdpr.example"), 0);
    config_free(cfg);
}

/* test_values_fallback_state - fallback and state keys land in their fields */
static void test_values_fallback_state(void **state)
{
    struct config *cfg = load_ok("full", full_text);

    (void) state;
    assert_false(cfg->policies.fallback.enabled);
    assert_true(cfg->policies.fallback.tempfail_on_error);
    assert_int_equal(cfg->policies.fallback.key, FB_KEY_CLIENT_NET);
    assert_int_equal(cfg->policies.fallback.window, 7L * 86400);
    assert_int_equal(cfg->policies.fallback.action, FB_ACTION_LOG);
    assert_int_equal(cfg->policies.fallback.max_deferrals, 0);
    assert_int_equal(cfg->policies.fallback.defer_period, 5400);
    assert_int_equal(cfg->policies.fallback.then, FB_THEN_REJECT);
    assert_int_equal(cfg->state.backend, STATE_REDIS);
    assert_string_equal(cfg->state.servers[0], "10.0.0.1:6379");
    assert_string_equal(cfg->state.servers[1], "[::1]:6380");
    assert_string_equal(cfg->state.servers[2], "unix:/run/redis/r.sock");
    assert_null(cfg->state.servers[3]);
    assert_int_equal(cfg->state.db, 2);
    assert_null(cfg->state.password); /* read only when the fallback rules use Redis */
    assert_int_equal(cfg->state.timeout_ms, 100);
    assert_string_equal(cfg->state.prefix, "t:");
    assert_string_equal(cfg->state.password_file, "/etc/tlspolicyd/redis.pw");
    assert_int_equal(cfg->state.on_error, STATE_ON_ERROR_TEMPFAIL);
    config_free(cfg);
}

/* test_redis_password - read at load, without its newline, when the rules use Redis */
static void test_redis_password(void **state)
{
    struct config *cfg =
        load_ok("redispw", "fallback = { enabled = true; };\n"
                           "state = { backend = \"redis\"; password_file = \"@D/redis.pw\"; };\n"
                           "policies = ();\n");

    (void) state;
    assert_true(cfg->policies.fallback.enabled);
    assert_string_equal(cfg->state.password, "s3cret");
    assert_int_equal(cfg->state.password_len, 6);
    config_free(cfg);
}

/* test_redis_default_server - backend redis alone means the local server */
static void test_redis_default_server(void **state)
{
    struct config *cfg = load_ok("redis", "state = { backend = \"redis\"; };\npolicies = ();\n");

    (void) state;
    assert_non_null(cfg->state.servers);
    assert_string_equal(cfg->state.servers[0], "127.0.0.1:6379");
    assert_null(cfg->state.servers[1]);
    config_free(cfg);
}

/* test_redis_sentinels - sentinels and master_name instead of servers: no default server */
static void test_redis_sentinels(void **state)
{
    struct config *cfg =
        load_ok("redis", "state = { backend = \"redis\"; master_name = \"tp-1\";\n"
                         "  sentinels = [ \"127.0.0.1:26379\", \"unix:/run/sentinel.sock\" ]; };\n"
                         "policies = ();\n");

    (void) state;
    assert_null(cfg->state.servers);
    assert_string_equal(cfg->state.sentinels[0], "127.0.0.1:26379");
    assert_string_equal(cfg->state.sentinels[1], "unix:/run/sentinel.sock");
    assert_null(cfg->state.sentinels[2]);
    assert_string_equal(cfg->state.master_name, "tp-1");
    config_free(cfg);
}

/* load_hash - the hash of a configuration that must load */
static void load_hash(const char *name, const char *text, char *hash)
{
    struct config *cfg = load_ok(name, text);

    memcpy(hash, cfg->hash, CONFIG_HASH_LEN + 1);
    config_free(cfg);
}

/* test_hash - changes with the file and with each domain file */
static void test_hash(void **state)
{
    static const char text[] =
        "policies = ( { name = \"x\"; level = \"required\"; recipient_domains_file = \"@D/hash.txt\"; } );\n";
    char h1[CONFIG_HASH_LEN + 1], h2[CONFIG_HASH_LEN + 1], h3[CONFIG_HASH_LEN + 1], h4[CONFIG_HASH_LEN + 1];
    char path[PATH_MAX];

    (void) state;
    fixture_path("hash.txt", path, sizeof(path));
    write_file(path, "a.example\n", 10);
    load_hash("hash", text, h1);
    load_hash("hash", text, h2);
    assert_string_equal(h1, h2);
    write_file(path, "b.example\n", 10);
    load_hash("hash", text, h3);
    assert_string_not_equal(h1, h3);
    load_hash("hash",
              "# changed\n"
              "policies = ( { name = \"x\"; level = \"required\";"
              " recipient_domains_file = \"@D/hash.txt\"; } );\n",
              h4);
    assert_string_not_equal(h3, h4);
    assert_int_equal(strspn(h1, "0123456789abcdef"), CONFIG_HASH_LEN);
}

/* test_include_not_a_directive - "@include" in comments and strings is text */
static void test_include_not_a_directive(void **state)
{
    static const char text[] = "# @include \"a\"\n"
                               "// @include \"b\"\n"
                               "/* c\n"
                               "@include \"c\"\n"
                               "*/\n"
                               "user = \"d\n"
                               "@include \\\"d\\\"\";\n"
                               "pidfile = \"/run/@include\"; /* e */\n"
                               "policies = ();\n";
    struct config *cfg = load_ok("noinclude", text);

    (void) state;
    assert_string_equal(cfg->user, "d\n@include \"d\"");
    assert_string_equal(cfg->pidfile, "/run/@include");
    config_free(cfg);
}

/* test_include_across_chunks - found where it straddles two reads */
static void test_include_across_chunks(void **state)
{
    static const char tail[] = "@include \"x\"\n";
    char path[PATH_MAX], want[PATH_MAX + 256], got[PATH_MAX + 256];
    size_t pad = 65536 - 4; /* the directive starts 4 bytes before the second read */
    struct tp_errlist errs;
    char *text;

    (void) state;
    assert_non_null(text = malloc(pad + sizeof(tail)));
    memset(text, 'x', pad);
    text[0] = '#';
    text[pad - 1] = '\n';
    memcpy(text + pad, tail, sizeof(tail));
    fixture_path("chunks.conf", path, sizeof(path));
    write_file(path, text, pad + sizeof(tail) - 1);
    free(text);
    tp_errlist_init(&errs);
    assert_null(config_load(path, &errs));
    assert_int_equal(errs.n, 1);
    snprintf(want, sizeof(want), "%s:2: %s", path, INCLUDE_REFUSED);
    first_error(&errs, got, sizeof(got));
    assert_string_equal(got, want);
}

/* test_all_errors_reported - one load reports every mistake, in order */
static void test_all_errors_reported(void **state)
{
    static const char text[] =
        "sockt = \"unix:/x\";\n"
        "log = { format = \"xml\"; };\n"
        "policies = ( { name = \"p\"; level = \"required\"; min_tls_version = \"TLSv9\";\n"
        "               sender_domains = [ \"a..example\" ]; } );\n"
        "state = { backend = \"lmdb\"; timeout_ms = 5; };\n";
    static const char *const want[] = {
        "@F:1: unknown key \"sockt\" at top level",
        "@F:2: format: invalid value \"xml\" (expected kv or json)",
        "@F:3: min_tls_version: invalid value \"TLSv9\" (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)",
        "@F:4: sender_domains: invalid domain \"a..example\": empty label",
        "@F:5: timeout_ms: only valid with backend \"redis\" (backend is \"lmdb\")",
    };
    char path[PATH_MAX], exp[1024], got[1024];
    struct tp_errlist errs;
    size_t k;

    (void) state;
    write_config("multi", text, path, sizeof(path));
    tp_errlist_init(&errs);
    assert_null(config_load(path, &errs));
    assert_int_equal(errs.n, sizeof(want) / sizeof(want[0]));
    for (k = 0; k < errs.n; k++) {
        subst(want[k], path, exp, sizeof(exp));
        tp_error_format(&errs.items[k], got, sizeof(got));
        assert_string_equal(got, exp);
    }
}

/* test_durations - cfg_parse_duration, table-driven */
static void test_durations(void **state)
{
    static const struct {
        const char *text;
        int rc;
        long seconds;
    } cases[] = {
        {"30d", 0, 2592000},
        {"6h", 0, 21600},
        {"90m", 0, 5400},
        {"45s", 0, 45},
        {"120", 0, 120},
        {"0", 0, 0},
        {"", -1, 0},
        {"d", -1, 0},
        {"5w", -1, 0},
        {"5 h", -1, 0},
        {"-5", -1, 0},
        {"1h30m", -1, 0},
        {"5H", -1, 0},
        {"99999999999999999999", -1, 0},
        {"9223372036854775807d", -1, 0},
    };
    size_t i;
    long v;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -1;
        if (cfg_parse_duration(cases[i].text, &v) != cases[i].rc ||
            (cases[i].rc == 0 && v != cases[i].seconds))
            fail_msg("duration \"%s\": got rc != %d or %ld != %ld", cases[i].text, cases[i].rc, v,
                     cases[i].seconds);
    }
    assert_int_equal(cfg_parse_duration(NULL, &v), -1);
}

/* weakening - what config_weakening() says about a reload from a to b */
static void weakening(const char *a, const char *b, char *buf, size_t len)
{
    struct config *o = load_ok("weak-a", a), *n = load_ok("weak-b", b);
    struct strbuf text;

    strbuf_init(&text);
    config_weakening(o, n, &text);
    snprintf(buf, len, "%s", strbuf_str(&text));
    strbuf_free(&text);
    config_free(o);
    config_free(n);
}

#define GDPR(level, extra)                                                                                   \
    "policies = ( { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\", \".gdpr.example\" ]; level = "  \
    "\"" level "\"; " extra " } );\n"

#define PIN1       "\"MD5:00112233445566778899aabbccddeeff\""
#define PIN1_SPELT "\"md5:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\""
#define PIN2       "\"SHA1:00112233445566778899aabbccddeeff00112233\""

/* test_weakening - a reload that protects less is described, one that does not is silent */
static void test_weakening(void **state)
{
    static const struct {
        const char *name, *old, *new, *want;
    } cases[] = {
        {"unchanged", GDPR("required", ""), GDPR("required", ""), ""},
        {"tightened", GDPR("required", ""), GDPR("verified", "min_tls_version = \"TLSv1.3\";"), ""},
        {"level lowered", GDPR("required", ""), GDPR("opportunistic", ""),
         "policy gdpr: level required -> opportunistic; recipient domains losing their level: gdpr.example"
         " (required -> opportunistic), .gdpr.example (required -> opportunistic)"},
        {"version lowered", GDPR("required", "min_tls_version = \"TLSv1.2\";"),
         GDPR("required", "min_tls_version = \"TLSv1\";"), "policy gdpr: min_tls_version TLSv1.2 -> TLSv1"},
        {"renamed, domains kept", GDPR("required", ""),
         "policies = ( { name = \"privacy\"; recipient_domains = [ \"gdpr.example\", \".gdpr.example\" ];"
         " level = \"required\"; } );\n",
         "policy gdpr (level required) removed"},
        {"suffix covered by a parent suffix", GDPR("required", ""),
         "policies = ( { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\", \".example\" ];"
         " level = \"required\"; } );\n",
         ""},
        {"exact does not cover subdomains", GDPR("required", ""),
         "policies = ( { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\"; } "
         ");\n",
         "recipient domains losing their level: .gdpr.example (required -> opportunistic)"},
        {"pinning dropped", GDPR("verified", "cert_fingerprint = [ " PIN1 " ];"), GDPR("verified", ""),
         "policy gdpr: cert_fingerprint removed (1 pin)"},
        {"pin added", GDPR("verified", "cert_fingerprint = [ " PIN1 " ];"),
         GDPR("verified", "cert_fingerprint = [ " PIN1 ", " PIN2 " ];"),
         "policy gdpr: cert_fingerprint: 1 pin added, more certificates accepted"},
        {"pin replaced", GDPR("verified", "cert_fingerprint = [ " PIN1 " ];"),
         GDPR("verified", "cert_fingerprint = [ " PIN2 " ];"),
         "policy gdpr: cert_fingerprint: 1 pin added, more certificates accepted"},
        {"pin removed from a list", GDPR("verified", "cert_fingerprint = [ " PIN1 ", " PIN2 " ];"),
         GDPR("verified", "cert_fingerprint = [ " PIN2 " ];"), ""},
        {"pin respelt", GDPR("verified", "cert_fingerprint = [ " PIN1 " ];"),
         GDPR("verified", "cert_fingerprint = [ " PIN1_SPELT " ];"), ""},
        {"pinning added", GDPR("verified", ""), GDPR("verified", "cert_fingerprint = [ " PIN1 " ];"), ""},
        {"monitor and exempt", GDPR("required", ""),
         "mode = \"monitor\";\nexempt = { clients = [ \"0.0.0.0/0\" ]; };\n" GDPR("required", ""),
         "mode enforce -> monitor; exempt: clients 0.0.0.0/0 added"},
    };
    char got[8192];
    size_t i, failures = 0;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        weakening(cases[i].old, cases[i].new, got, sizeof(got));
        if (strcmp(got, cases[i].want) == 0)
            continue;
        failures++;
        print_error("case \"%s\":\n  want: %s\n  got:  %s\n", cases[i].name, cases[i].want, got);
    }
    assert_int_equal(failures, 0);
}

/* test_pins - pins load normalised; -n and start-up warn without a policy socket */
static void test_pins(void **state)
{
    static const char text[] =
        "default = { level = \"opportunistic\"; };\n"
        "policies = (\n"
        "  { name = \"partner\"; sender_domains = [ \"partner.example\" ];\n"
        "    level = \"verified\";\n"
        "    cert_fingerprint = [ " PIN1_SPELT ", " PIN2 " ]; },\n"
        "  { name = \"plain\"; sender_domains = [ \"plain.example\" ]; level = \"verified\"; }\n"
        ");\n";
    struct config *cfg = load_ok("pins", text), *none;
    const struct policy *p = &cfg->policies.policies[0];
    struct tp_errlist warns;
    char path[PATH_MAX], want[PATH_MAX + 512], got[PATH_MAX + 512];

    (void) state;
    assert_int_equal(p->npins, 2);
    assert_int_equal(p->pins[0].digest, CERTFP_MD5);
    assert_int_equal(p->pins[0].bytes[0], 0x00);
    assert_int_equal(p->pins[0].bytes[15], 0xff);
    assert_int_equal(p->pins[1].digest, CERTFP_SHA1);
    assert_int_equal(cfg->policies.policies[1].npins, 0);
    assert_null(cfg->policy_socket);
    tp_errlist_init(&warns);
    assert_int_equal(config_check_pins(cfg, false, &warns), 1);
    tp_error_format(&warns.items[0], got, sizeof(got));
    snprintf(path, sizeof(path), "%s/pins.conf", tmpdir);
    snprintf(want, sizeof(want),
             "%s:3: warning: policy partner pins certificates (cert_fingerprint), but no policy_socket is"
             " configured: fingerprints arrive only through the policy service (and Sendmail's {cert_md5});"
             " through Postfix's milter this policy decides cert_mismatch",
             path);
    assert_string_equal(got, want);
    /* A policy service runs: -s, or policy_socket in the file. */
    tp_errlist_init(&warns);
    assert_int_equal(config_check_pins(cfg, true, &warns), 0);
    config_free(cfg);
    cfg = load_ok("pins-policy",
                  "policy_socket = \"inet:127.0.0.1:10040\";\n"
                  "policies = ( { name = \"p\";"
                  " sender_domains = [ \"p.example\" ]; level = \"verified\"; cert_fingerprint = [ " PIN1
                  " ]; } );\n");
    tp_errlist_init(&warns);
    assert_int_equal(config_check_pins(cfg, false, &warns), 0);
    assert_int_equal(warns.n, 0);
    none = load_ok("nopins", GDPR("verified", ""));
    tp_errlist_init(&warns);
    assert_int_equal(config_check_pins(none, false, &warns), 0);
    assert_int_equal(warns.n, 0);
    config_free(none);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_cases),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_shipped_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values_daemon),
        cmocka_unit_test(test_values_policies),
        cmocka_unit_test(test_values_fallback_state),
        cmocka_unit_test(test_redis_default_server),
        cmocka_unit_test(test_redis_sentinels),
        cmocka_unit_test(test_redis_password),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_include_not_a_directive),
        cmocka_unit_test(test_include_across_chunks),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_weakening),
        cmocka_unit_test(test_pins),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
