//! Django's `url_has_allowed_host_and_scheme` vectors (tests/utils_tests/test_http.py).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use castellan_axum::url_has_allowed_host_and_scheme as safe;

#[test]
fn django_bad_urls() {
    let hosts = ["testserver", "testserver2"];
    let bad = [
        "http://example.com",
        "http:///example.com",
        "https://example.com",
        "ftp://example.com",
        r"\\example.com",
        r"\\\example.com",
        r"/\\/example.com",
        r"\\//example.com",
        r"/\/example.com",
        r"\/example.com",
        r"/\example.com",
        r"http:/\//example.com",
        r"http:\/example.com",
        r"http:/\example.com",
        r#"javascript:alert("XSS")"#,
        "\njavascript:alert(x)",
        "java\nscript:alert(x)",
        "\x08//example.com",
        r"http://otherserver\@example.com",
        r"http:\\testserver\@example.com",
        r"http://testserver\me:pass@example.com",
        r"http://testserver\@example.com",
        r"http:\\testserver\confirm\me@example.com",
        "http:999999999",
        "ftp:9999999999",
        "\n",
        "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
        "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
        // Login-view extras and the security plan's B-cases.
        "///example.com",
        "//example.com",
        "https:evil.com",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "\u{200E}//evil.com",
        "https://testserver.evil.com",
        "https://good@evil.com",
    ];
    for url in bad {
        assert!(!safe(url, &hosts, false), "{url:?} should be unsafe");
    }
    let long = format!("/{}", "a".repeat(2048));
    assert!(!safe(&long, &hosts, false));
    assert!(!safe("", &hosts, false));
}

#[test]
fn django_good_urls() {
    let hosts = ["otherserver", "testserver"];
    let good = [
        "/view/?param=http://example.com",
        "/view/?param=https://example.com",
        "/view?param=ftp://example.com",
        "view/?param=//example.com",
        "https://testserver/",
        "HTTPS://testserver/",
        "//testserver/",
        "http://testserver/confirm?email=me@example.com",
        "/url%20with%20spaces/",
        "path/http:2222222222",
        "%2F%2Fevil.com",
    ];
    for url in good {
        assert!(safe(url, &hosts, false), "{url:?} should be safe");
    }
}

#[test]
fn django_secure_urls() {
    let hosts = ["example.com"];
    for url in [
        "https://example.com/p",
        "HTTPS://example.com/p",
        "/view/?param=http://example.com",
    ] {
        assert!(safe(url, &hosts, true), "{url:?}");
    }
    for url in [
        "http://example.com/p",
        "ftp://example.com/p",
        "//example.com/p",
    ] {
        assert!(!safe(url, &hosts, true), "{url:?}");
    }
}

#[test]
fn hostile_lengths_are_bounded() {
    let huge = "é".repeat(1_000_000);
    assert!(!safe(&huge, &["testserver"], false));
}
