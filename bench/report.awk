# report.awk - n synthetic decision records with a traditional syslog prefix,
# a realistic mix of domains, protocol versions and ciphers (for bench/report.sh)
BEGIN {
    srand(42);
    split("gdpr.example other.example partner.example bank.example shop.example", doms, " ");
    split("TLSv1.3 TLSv1.2 TLSv1.2 TLSv1.3 none TLSv1", vers, " ");
    split("TLS_AES_256_GCM_SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-AES128-GCM-SHA256 TLS_AES_128_GCM_SHA256 - AES256-SHA", ciph, " ");
    for (i = 1; i <= n; i++) {
        d = doms[int(rand() * 5) + 1];
        v = int(rand() * 6) + 1;
        act = (vers[v] == "none" && d == "gdpr.example") ? "reject" : "accept";
        reason = act == "reject" ? "plaintext" : (vers[v] == "none" ? "plaintext_allowed" : "tls_ok");
        printf "Nov 22 14:%02d:%02d mx1 tlspolicyd[123]: event=decision seq=%d instance=abcdef012345 config=0123456789ab qid=4XyZ%06d action=%s would=- reason=%s policy=default level=opportunistic mode=enforce rcpt=user%d@%s rcpt_domain=%s sender=s%d@sender%d.example sender_domain=sender%d.example client_addr=192.0.2.%d client_name=mx%d.sender%d.example helo=mx%d.sender%d.example tls_version=%s cipher=%s cipher_bits=256 cert_verified=no cert_subject=- cert_issuer=- fallback_key=- deferrals=- reply=-\n", (i / 60) % 60, i % 60, i, i, act, reason, i % 1000, d, d, i % 97, i % 50, i % 50, i % 250, i % 50, i % 50, i % 50, i % 50, vers[v], ciph[v];
    }
}
