use super::*;
use crate::Header;

fn tls(value: &str) -> (Option<String>, Option<String>) {
    let hop = parse(value);
    (hop.tls_version, hop.cipher)
}

fn pair(version: &str, cipher: &str) -> (Option<String>, Option<String>) {
    (Some(version.into()), Some(cipher.into()))
}

#[test]
fn postfix_forms() {
    let hop = parse(
        "from mail.example.org (mail.example.org [203.0.113.5]) (using TLSv1.3 with cipher \
         TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS \
         (2048 bits) server-digest SHA256) (No client certificate requested) by \
         mx.caliopen.local (Postfix) with ESMTPS id 4XyZ for <bob@caliopen.local>; \
         Tue, 21 Jan 2025 10:00:00 +0000 (UTC)",
    );
    assert_eq!(hop.from_host.as_deref(), Some("mail.example.org"));
    assert_eq!(hop.from_ip.as_deref(), Some("203.0.113.5"));
    assert_eq!(hop.by_host.as_deref(), Some("mx.caliopen.local"));
    assert_eq!(hop.protocol.as_deref(), Some("ESMTPS"));
    assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.3"));
    assert_eq!(hop.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert!(hop.uses_tls());
}

#[test]
fn sendmail_gmail_microsoft_forms() {
    assert_eq!(
        tls(
            "from [10.1.2.3] by smtp.gmail.com with ESMTPSA id x12sm (version=TLS1_2 \
             cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128); Mon, 1 Jan 2024 00:00:00 -0800"
        ),
        pair("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256")
    );
    assert_eq!(
        tls(
            "from a.b.c (a.b.c [1.2.3.4]) by d.e.f (8.14.4/8.14.4) with ESMTP id q (version=TLSv1/SSLv3 \
             cipher=DHE-RSA-AES256-SHA bits=256 verify=NO)"
        ),
        pair("TLSv1/SSLv3", "DHE-RSA-AES256-SHA")
    );
    let hop = parse(
        "from AM0PR09MB3876.eurprd09.prod.outlook.com (2a01:111:e400:7e0e::4d) by \
         VI1EUR04FT008.mail.protection.outlook.com (2a01:111:e400:7e0e::406) with Microsoft SMTP \
         Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.3412.21",
    );
    assert_eq!(hop.from_ip.as_deref(), Some("2a01:111:e400:7e0e::4d"));
    assert_eq!(hop.protocol.as_deref(), Some("Microsoft"));
    assert_eq!(
        (hop.tls_version, hop.cipher),
        pair("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
    );
}

#[test]
fn exim_forms() {
    let hop = parse(
        "from 84.94.185.246.cable.012.net.il ([84.94.185.246]:3368 helo=home-c4e4a596f7) by \
         fencepost.gnu.org with esmtpsa (TLS1.2:RSA_AES_128_CBC_SHA1:128) (Exim 4.82) \
         (envelope-from <eliz@gnu.org>) id 1amk8v-0003WO-8X; Sun, 03 Apr 2016 11:40:49 -0400",
    );
    assert_eq!(
        hop.from_host.as_deref(),
        Some("84.94.185.246.cable.012.net.il")
    );
    assert_eq!(hop.from_ip.as_deref(), Some("84.94.185.246"));
    assert_eq!(
        (hop.tls_version, hop.cipher),
        pair("TLSv1.2", "RSA_AES_128_CBC_SHA1")
    );
    assert_eq!(
        tls(
            "from mx.example.net ([192.0.2.7]) by mail.example.com with esmtps (TLS1.3) tls \
             TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@example.net>)"
        ),
        pair("TLSv1.3", "TLS_AES_256_GCM_SHA384")
    );
}

#[test]
fn plain_hops_have_no_tls() {
    let hop = parse(
        "from lists.gnu.org ([208.118.235.17]:46573) by mx.example.org with esmtp (Exim 4.71)",
    );
    assert_eq!((hop.tls_version.clone(), hop.cipher.clone()), (None, None));
    assert!(!hop.uses_tls());
    let hop = parse("by 2002:a05:6a10:a0c8:0:0:0:0 with SMTP id ab12csp; Tue, 1 Jan 2024");
    assert_eq!(hop.from_host, None);
    assert_eq!(hop.by_host.as_deref(), Some("2002:a05:6a10:a0c8:0:0:0:0"));
    assert_eq!(
        parse("(qmail 1234 invoked by uid 89); 1 Jan 2024"),
        Hop::default()
    );
    assert!(parse("from x by y with ESMTPSA id 1").uses_tls());
}

#[test]
fn version_spellings() {
    for (raw, norm) in [
        ("TLS1_2", "TLSv1.2"),
        ("TLS1.3", "TLSv1.3"),
        ("TLSv1", "TLSv1"),
        ("TLS1", "TLSv1"),
        ("tlsv1.0", "TLSv1"),
        ("SSLv3", "SSLv3"),
        ("TLSv1/SSLv3", "TLSv1/SSLv3"),
        ("QUIC", "QUIC"),
    ] {
        assert_eq!(tls::normalize(raw), norm, "{raw}");
    }
}

fn received(values: &[&str]) -> Vec<Header> {
    values
        .iter()
        .map(|v| Header {
            name: "Received".into(),
            value: (*v).into(),
        })
        .collect()
}

#[test]
fn ingress_is_the_hop_into_the_local_domain() {
    let headers = received(&[
        "from mx.caliopen.local (mx.caliopen.local [10.0.0.2]) by imap.caliopen.local (Dovecot) with LMTP id 1",
        "from localhost (localhost [127.0.0.1]) by mx.caliopen.local (Postfix) with ESMTP id 2",
        "from mail.example.org (mail.example.org [203.0.113.5]) (using TLSv1.3 with cipher \
         TLS_AES_128_GCM_SHA256 (128/128 bits)) by mx.caliopen.local (Postfix) with ESMTPS id 3",
        "from [10.9.9.9] by mail.example.org with ESMTPSA id 4 (version=TLS1_2 cipher=AES128-SHA bits=128/128)",
        "by 2002:a05::1 with SMTP id 5",
    ]);
    let local = LocalDomain::new("caliopen.local");
    let transport = transport(&headers, &local);
    assert_eq!(transport.external_hops, 2);
    let ingress = transport.ingress.expect("an ingress hop");
    assert_eq!(ingress.from_host.as_deref(), Some("mail.example.org"));
    assert_eq!(ingress.tls_version.as_deref(), Some("TLSv1.3"));
}

#[test]
fn without_the_local_domain_the_last_hop_from_outside_counts() {
    let headers = received(&[
        "from post2.caliopen.net ([178.32.78.240]) by box.caliopen.net (Dovecot) with LMTP id L",
        "from post2.caliopen.net (post2.caliopen.net [178.32.78.240]) by post2.caliopen.net (Postfix) with ESMTP id D",
        "from client.example.com (client.example.com [192.0.2.33]) (using TLSv1.2 with cipher \
         ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)) (No client certificate requested) by \
         post2.caliopen.net (Postfix) with ESMTPSA id 6",
    ]);
    let transport = transport(&headers, &LocalDomain::new("caliopen.local"));
    assert_eq!(transport.external_hops, 3);
    let ingress = transport.ingress.expect("an ingress hop");
    assert_eq!(ingress.from_host.as_deref(), Some("client.example.com"));
    assert_eq!(ingress.tls_version.as_deref(), Some("TLSv1.2"));
    assert_eq!(
        ingress.cipher.as_deref(),
        Some("ECDHE-RSA-AES256-GCM-SHA384")
    );
}

#[test]
fn local_process_names_are_not_the_ingress() {
    let headers = received(&[
        "from list by lists.gnu.org with archive (Exim 4.71) id 1anAVD-0003xV-3M",
        "from eggs.gnu.org ([2001:4830:134:3::10]:51739) by lists.gnu.org with esmtp (Exim 4.71)",
        "from Debian-exim by eggs.gnu.org with spam-scanned (Exim 4.71)",
        "from mail-yw0-x231.google.com ([2607:f8b0:4002:c05::231]:33985) by eggs.gnu.org with esmtp (Exim 4.71)",
        "by mail-yw0-x231.google.com with SMTP id d68so128499966ywe.1",
    ]);
    let transport = transport(&headers, &LocalDomain::new("caliopen.local"));
    let ingress = transport.ingress.expect("an ingress hop");
    assert_eq!(
        ingress.from_host.as_deref(),
        Some("mail-yw0-x231.google.com")
    );
    assert_eq!(ingress.from_ip.as_deref(), Some("2607:f8b0:4002:c05::231"));
    assert!(!ingress.uses_tls());
}

#[test]
fn a_plain_ingress_hides_earlier_tls() {
    let headers = received(&[
        "from relay.example.net (relay.example.net [198.51.100.1]) by mx.caliopen.local with ESMTP id 1",
        "from [10.0.0.1] by relay.example.net with ESMTPS id 2 (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256)",
    ]);
    let transport = transport(&headers, &LocalDomain::new("caliopen.local"));
    let ingress = transport.ingress.expect("an ingress hop");
    assert_eq!(ingress.from_host.as_deref(), Some("relay.example.net"));
    assert_eq!(ingress.tls_version, None);
    assert!(!ingress.uses_tls());
    assert_eq!(transport.external_hops, 1);
}

#[test]
fn hops_inside_one_site_are_not_the_ingress() {
    let headers = received(&[
        "from mexico.brainstorm.fr (mexico.brainstorm.fr [193.56.58.35]) by brasil.brainstorm.fr (Postfix) with ESMTP id 8",
        "by mexico.brainstorm.fr (Postfix) id 7",
        "from mail.futurfast.eu (mail.futurfast.eu [176.20.27.58]) by mexico.brainstorm.fr (Postfix) with ESMTP id 3",
    ]);
    let transport = transport(&headers, &LocalDomain::new("caliopen.local"));
    let ingress = transport.ingress.expect("an ingress hop");
    assert_eq!(ingress.from_host.as_deref(), Some("mail.futurfast.eu"));
    assert_eq!(transport.external_hops, 3);
}

#[test]
fn organisations() {
    assert_eq!(
        organisation("mx1.mail.Example.org.").as_deref(),
        Some("example.org")
    );
    assert_eq!(
        organisation("smtp.example.co.uk").as_deref(),
        Some("example.co.uk")
    );
    assert_eq!(organisation("example.fr").as_deref(), Some("example.fr"));
    assert_eq!(organisation("[10.0.0.1]"), None);
    assert_eq!(organisation("192.0.2.1"), None);
    assert_eq!(organisation("localhost"), None);
}
