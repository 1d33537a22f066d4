//! Django's password-reset views (`PasswordResetView`, `…DoneView`, `…ConfirmView`,
//! `…CompleteView`): the whole flow on the in-memory backend and on the store (SQLite), the answer
//! that never tells whether an address exists, expiry, invalidation by a password change and by a
//! login, invalid and garbled links, throttling, and the trusted host of the links.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests panic on failed set-up.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use castellan_axum::views::password_reset::{INVALID_EMAIL, RESET_THROTTLED};
use castellan_axum::{
    AuthConfig, AuthLayer, CurrentUser, EmailMessage, MemoryEmailSender, ThrottleConfig,
};
use castellan_core::tokens::{uidb64, TokenUser};
use castellan_core::{AuthnBackend, MemoryBackend, User};
use castellan_store::Store;
use castellan_testkit::{body, cheap_hashers, location, Client, PASSWORD};
use http::StatusCode;

const SECRET: &str = "password reset test secret";
const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// The users behind the layer: the in-memory backend or the store on SQLite.
#[derive(Clone)]
enum Users {
    Memory(MemoryBackend),
    Store(Store),
}

impl Users {
    async fn new(store: bool) -> Self {
        if store {
            Self::Store(castellan_testkit::store_at("sqlite::memory:").await)
        } else {
            Self::Memory(MemoryBackend::with_hashers(cheap_hashers()))
        }
    }

    /// A user with `email`; `usable: false` gives an unusable password.
    async fn add(&self, name: &str, email: &str, active: bool, usable: bool) {
        match self {
            Self::Memory(m) => {
                let u = m.create_user(name, usable.then_some(PASSWORD)).unwrap();
                m.update_user(u.id, |u| {
                    u.email = email.into();
                    u.is_active = active;
                })
                .unwrap();
            }
            Self::Store(s) => {
                castellan_testkit::user(s, name, |u| {
                    u.email = email.into();
                    u.is_active = active;
                    if !usable {
                        u.password = None;
                    }
                })
                .await;
            }
        }
    }

    async fn get(&self, name: &str) -> User {
        match self {
            Self::Memory(m) => m.user(name).unwrap(),
            Self::Store(s) => s.user(name).await.unwrap().unwrap(),
        }
    }

    async fn set_password(&self, name: &str, raw: &str) {
        let user = self.get(name).await;
        match self {
            Self::Memory(m) => m.set_password(&user, raw).await.unwrap(),
            Self::Store(s) => AuthnBackend::set_password(s, &user, raw).await.unwrap(),
        };
    }

    async fn layer(&self, config: AuthConfig) -> AuthLayer {
        match self {
            Self::Memory(m) => AuthLayer::new(m.clone(), config).await.unwrap(),
            Self::Store(s) => AuthLayer::new(s.clone(), config).await.unwrap(),
        }
    }
}

struct Env {
    users: Users,
    auth: AuthLayer,
    outbox: MemoryEmailSender,
}

impl Env {
    fn client(&self) -> Client {
        let whoami = |u: CurrentUser| async move {
            u.user
                .map_or_else(|| "anonymous".to_owned(), |u| u.username)
        };
        let app = Router::new()
            .route("/", get(whoami))
            .nest("/accounts", castellan_axum::router())
            .layer(self.auth.clone());
        Client::new(app).with_csrf_pages(["/accounts/password_reset/"])
    }

    /// The messages sent so far (they go out in the background: wait a little for `n`).
    async fn mails(&self, n: usize) -> Vec<EmailMessage> {
        for _ in 0..200 {
            if self.outbox.outbox().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut mails = self.outbox.take();
        mails.sort_by(|a, b| a.to.cmp(&b.to));
        mails
    }

    fn token_for(&self, user: &User, at: chrono::DateTime<chrono::Utc>) -> String {
        let pk = user.id.to_string();
        self.auth
            .config()
            .password_reset_tokens()
            .make_token(&TokenUser::of_user(user, &pk), at)
    }

    async fn link(&self, name: &str, at: chrono::DateTime<chrono::Utc>) -> String {
        let user = self.users.get(name).await;
        format!(
            "/accounts/reset/{}/{}/",
            uidb64(&user.id.to_string()),
            self.token_for(&user, at)
        )
    }
}

/// alice and twin share an address (in two cases); off is inactive and nopass has an unusable
/// password at that address too; bob has his own.
async fn env_on(store: bool, config: impl FnOnce(AuthConfig) -> AuthConfig) -> Env {
    let users = Users::new(store).await;
    users.add("alice", "alice@example.com", true, true).await;
    users.add("twin", "ALICE@example.com", true, true).await;
    users.add("off", "alice@example.com", false, true).await;
    users.add("nopass", "alice@example.com", true, false).await;
    users.add("bob", "bob@example.com", true, true).await;
    let outbox = MemoryEmailSender::new();
    let config = config(
        AuthConfig::new(SECRET)
            .with_allowed_hosts(["testserver"])
            .with_email_sender(outbox.clone())
            .with_from_email("noreply@example.com"),
    );
    let auth = users.layer(config).await;
    Env {
        users,
        auth,
        outbox,
    }
}

/// The path of the link in a reset e-mail.
fn link_in(mail: &EmailMessage) -> String {
    let start = mail.body.find("http://testserver/").expect("a link");
    let url = mail.body[start..].split_whitespace().next().unwrap();
    url.trim_start_matches("http://testserver").to_owned()
}

async fn whole_flow(store: bool) {
    let env = env_on(store, |c| c).await;
    let mut c = env.client();
    let (status, html) = c.page("/accounts/password_reset/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="email""#), "{html}");

    let r = c
        .post_form(
            "/accounts/password_reset/",
            &[("email", " Alice@Example.COM ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/password_reset/done/");
    let (status, html) = c.page("/accounts/password_reset/done/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Password reset sent"), "{html}");

    // alice and twin, not the inactive user nor the one without a usable password.
    let mails = env.mails(2).await;
    let to: Vec<_> = mails.iter().map(|m| m.to.join(",")).collect();
    assert_eq!(to, ["ALICE@example.com", "alice@example.com"]);
    let mail = &mails[1];
    assert_eq!(mail.subject, "Password reset on testserver");
    assert_eq!(mail.from_email, "noreply@example.com");
    assert!(
        mail.body.contains("your username is alice"),
        "{}",
        mail.body
    );
    let alice = env.users.get("alice").await;
    let link = link_in(mail);
    let uid = uidb64(&alice.id.to_string());
    assert!(
        link.starts_with(&format!("/accounts/reset/{uid}/")),
        "{link}"
    );

    // The link puts the token in the session and drops it from the URL.
    let r = c.get(&link).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let form = format!("/accounts/reset/{uid}/set-password/");
    assert_eq!(location(&r), form);
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    let (status, html) = c.page(&form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="new_password1""#), "{html}");

    // The form's checks: both fields, equal, and the validators.
    let token = castellan_testkit::field(&html, "csrfmiddlewaretoken").unwrap();
    let post = |fields: &'static [(&'static str, &'static str)]| (form.clone(), fields);
    let (url, fields) = post(&[("new_password1", "x")]);
    let html = body(c.post_with_token(&url, &token, fields).await).await;
    assert!(html.contains("This field is required."), "{html}");
    let (url, fields) = post(&[("new_password1", NEW_PASSWORD), ("new_password2", "other")]);
    let html = body(c.post_with_token(&url, &token, fields).await).await;
    assert!(html.contains("didn’t match"), "{html}");
    let (url, fields) = post(&[("new_password1", "123"), ("new_password2", "123")]);
    let html = body(c.post_with_token(&url, &token, fields).await).await;
    assert!(html.contains("too short"), "{html}");

    let r = c
        .post_with_token(
            &form,
            &token,
            &[
                ("new_password1", NEW_PASSWORD),
                ("new_password2", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), "/accounts/reset/done/");
    let (status, html) = c.page("/accounts/reset/done/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/accounts/login/""#), "{html}");

    // The new password works, the old one not; the link is spent.
    let mut fresh = env.client();
    assert_eq!(
        fresh.login("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        fresh.login("alice", NEW_PASSWORD).await.status(),
        StatusCode::FOUND
    );
    let (status, html) = c.page(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Password reset unsuccessful"), "{html}");
    let (_, html) = c.page(&form).await;
    assert!(html.contains("Password reset unsuccessful"), "{html}");
    // twin's link still works: it is another user.
    let r = c.get(&link_in(&mails[0])).await;
    assert_eq!(r.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn whole_flow_on_the_memory_backend() {
    whole_flow(false).await;
}

#[tokio::test]
async fn whole_flow_on_the_store() {
    whole_flow(true).await;
}

#[tokio::test]
async fn the_answer_never_tells_whether_the_address_exists() {
    for store in [false, true] {
        let env = env_on(store, |c| c).await;
        let mut c = env.client();
        let known = c
            .post_form("/accounts/password_reset/", &[("email", "bob@example.com")])
            .await;
        let unknown = c
            .post_form(
                "/accounts/password_reset/",
                &[("email", "nobody@example.com")],
            )
            .await;
        assert_eq!(known.status(), unknown.status());
        assert_eq!(location(&known), location(&unknown));
        assert_eq!(body(known).await, body(unknown).await);
        let mails = env.mails(1).await;
        assert_eq!(mails.len(), 1, "one mail, to bob");
        assert_eq!(mails[0].to, ["bob@example.com"]);
    }
}

#[tokio::test]
async fn invalid_addresses_show_the_form_again() {
    let env = env_on(true, |c| c).await;
    let mut c = env.client();
    for (email, error) in [
        ("", "This field is required."),
        ("not an address", INVALID_EMAIL),
    ] {
        let r = c
            .post_form("/accounts/password_reset/", &[("email", email)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = body(r).await;
        assert!(html.contains(error), "{email:?}: {html}");
    }
    // CSRF like every other form.
    let r = c
        .post_raw("/accounts/password_reset/", &[("email", "bob@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(env.mails(0).await.is_empty());
}

#[tokio::test]
async fn links_expire() {
    let env = env_on(true, |c| {
        c.with_password_reset_timeout(Duration::from_secs(3600))
    })
    .await;
    let mut c = env.client();
    let now = chrono::Utc::now();
    let fresh = env.link("bob", now - chrono::Duration::minutes(59)).await;
    assert_eq!(c.get(&fresh).await.status(), StatusCode::FOUND);
    let stale = env.link("bob", now - chrono::Duration::minutes(61)).await;
    let (status, html) = c.page(&stale).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Password reset unsuccessful"), "{html}");

    // Django's default: three days.
    let env = env_on(false, |c| c).await;
    let mut c = env.client();
    let r = c
        .get(&env.link("bob", now - chrono::Duration::days(2)).await)
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let (_, html) = c
        .page(&env.link("bob", now - chrono::Duration::days(4)).await)
        .await;
    assert!(html.contains("Password reset unsuccessful"), "{html}");
}

#[tokio::test]
async fn a_password_change_or_a_login_spends_the_link() {
    for store in [false, true] {
        let env = env_on(store, |c| c).await;
        let mut c = env.client();
        let now = chrono::Utc::now();

        // A login (last_login moves) invalidates a link made before it.
        let link = env.link("bob", now).await;
        let mut other = env.client();
        assert_eq!(
            other.login("bob", PASSWORD).await.status(),
            StatusCode::FOUND
        );
        let (_, html) = c.page(&link).await;
        assert!(html.contains("Password reset unsuccessful"), "{html}");

        // A password set elsewhere invalidates a link already moved into the session.
        let link = env.link("bob", now).await;
        let r = c.get(&link).await;
        assert_eq!(r.status(), StatusCode::FOUND);
        let form = location(&r);
        let (_, html) = c.page(&form).await;
        assert!(html.contains("new_password1"), "{html}");
        env.users.set_password("bob", "set by an admin 123").await;
        let (_, html) = c.page(&form).await;
        assert!(html.contains("Password reset unsuccessful"), "{html}");
        let token = c.csrf_token().await;
        let r = c
            .post_with_token(
                &form,
                &token,
                &[
                    ("new_password1", NEW_PASSWORD),
                    ("new_password2", NEW_PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let mut check = env.client();
        assert_eq!(
            check.login("bob", "set by an admin 123").await.status(),
            StatusCode::FOUND
        );
    }
}

#[tokio::test]
async fn garbled_and_foreign_links_are_invalid() {
    let env = env_on(true, |c| c).await;
    let mut c = env.client();
    let now = chrono::Utc::now();
    let bob = env.users.get("bob").await;
    let alice = env.users.get("alice").await;
    let bob_uid = uidb64(&bob.id.to_string());
    let bob_token = env.token_for(&bob, now);
    let garbled = format!("{}0-{}", &bob_token[..6], &bob_token[7..]);
    for link in [
        format!(
            "/accounts/reset/{bob_uid}/{}/",
            &bob_token[..bob_token.len() - 1]
        ),
        format!("/accounts/reset/{bob_uid}/{garbled}/"),
        format!("/accounts/reset/{bob_uid}/not-a-token/"),
        format!("/accounts/reset/{bob_uid}/set-password/"),
        format!("/accounts/reset/%25%25%25/{bob_token}/"),
        format!("/accounts/reset/{}/{bob_token}/", uidb64("999")),
        format!("/accounts/reset/{}/{bob_token}/", uidb64("bob")),
        // bob's token on alice's link.
        format!(
            "/accounts/reset/{}/{bob_token}/",
            uidb64(&alice.id.to_string())
        ),
    ] {
        let (status, html) = c.page(&link).await;
        assert_eq!(status, StatusCode::OK, "{link}");
        assert!(
            html.contains("Password reset unsuccessful"),
            "{link}: {html}"
        );
        assert!(!html.contains("new_password1"), "{link}");
    }
    // A POST to an invalid set-password page changes nothing.
    let token = c.csrf_token().await;
    let r = c
        .post_with_token(
            &format!("/accounts/reset/{bob_uid}/set-password/"),
            &token,
            &[
                ("new_password1", NEW_PASSWORD),
                ("new_password2", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(env.users.get("bob").await.password, bob.password);
    // The session token of one user does not open another's form.
    let r = c
        .get(&format!("/accounts/reset/{bob_uid}/{bob_token}/"))
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let alice_uid = uidb64(&alice.id.to_string());
    let (_, html) = c
        .page(&format!("/accounts/reset/{alice_uid}/set-password/"))
        .await;
    assert!(html.contains("Password reset unsuccessful"), "{html}");
}

#[tokio::test]
async fn requests_are_throttled() {
    let throttle = ThrottleConfig {
        lock_after: 2,
        ..ThrottleConfig::default()
    };
    let env = env_on(true, |c| c.with_throttle(throttle)).await;
    let mut c = env.client();
    for _ in 0..2 {
        let r = c
            .post_form("/accounts/password_reset/", &[("email", "bob@example.com")])
            .await;
        assert_eq!(r.status(), StatusCode::FOUND);
    }
    let r = c
        .post_form("/accounts/password_reset/", &[("email", "BOB@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(body(r).await.contains(RESET_THROTTLED));
    assert_eq!(env.mails(2).await.len(), 2);
    // Another address from the same client is still served.
    let r = c
        .post_form(
            "/accounts/password_reset/",
            &[("email", "alice@example.com")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn links_need_a_trusted_host() {
    // No allowed hosts and no configured domain: the Host is the client's choice, so nothing is
    // sent.
    let env = env_on(true, |c| c.with_allowed_hosts(Vec::<String>::new())).await;
    let mut c = env.client();
    let r = c
        .post_form("/accounts/password_reset/", &[("email", "bob@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(env.mails(0).await.is_empty());
    // Nor when every host is allowed.
    let env = env_on(true, |c| c.with_allowed_hosts(["*"])).await;
    let mut c = env.client();
    let r = c
        .post_form("/accounts/password_reset/", &[("email", "bob@example.com")])
        .await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(env.mails(0).await.is_empty());

    // A configured domain and site name, over HTTPS.
    let env = env_on(true, |c| {
        c.with_allowed_hosts(Vec::<String>::new())
            .with_password_reset_domain("books.example.org")
            .with_site_name("Bookshelf")
            .with_https(true)
    })
    .await;
    let mut c = env.client();
    let token = c.csrf_token().await;
    let form = castellan_testkit::form_body(&[
        ("csrfmiddlewaretoken", &token),
        ("email", "bob@example.com"),
    ]);
    let mut request = castellan_testkit::form_request("/accounts/password_reset/", form);
    // HTTPS: the CSRF check wants a same-origin Origin (or Referer).
    request
        .headers_mut()
        .insert("origin", "https://testserver".parse().unwrap());
    let r = c.send(request).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let mails = env.mails(1).await;
    assert_eq!(mails[0].subject, "Password reset on Bookshelf");
    assert!(
        mails[0]
            .body
            .contains("https://books.example.org/accounts/reset/"),
        "{}",
        mails[0].body
    );
}

#[tokio::test]
async fn templates_override_the_reset_pages_and_email() {
    let mut templates = castellan_templates::Templates::new();
    templates
        .add_template(
            "castellan/registration/password_reset_email.html",
            "Go to {{ reset_url }} ({{ protocol }}, {{ domain }}, {{ uid }}, {{ email }})",
        )
        .unwrap();
    templates
        .add_template(
            "castellan/registration/password_reset_subject.txt",
            "Reset\nfor {{ user }}\n",
        )
        .unwrap();
    let pages = castellan_axum::TemplatePages::new(std::sync::Arc::new(templates));
    let env = env_on(false, |c| c.with_pages(pages)).await;
    let mut c = env.client();
    c.post_form("/accounts/password_reset/", &[("email", "bob@example.com")])
        .await;
    let mails = env.mails(1).await;
    let bob = env.users.get("bob").await;
    assert_eq!(mails[0].subject, "Resetfor bob");
    assert!(mails[0].body.starts_with(&format!(
        "Go to http://testserver/accounts/reset/{}/",
        uidb64(&bob.id.to_string())
    )));
    let tail = format!(
        "(http, testserver, {}, bob@example.com)",
        uidb64(&bob.id.to_string())
    );
    assert!(mails[0].body.ends_with(&tail), "{}", mails[0].body);
}
