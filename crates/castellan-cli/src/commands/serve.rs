//! `castellan serve`: the admin UI at `/admin/` and the login/logout views at `/accounts/`, whose
//! login, password-change and 403 pages are the admin's ([`AdminPages`]). A login lands on the
//! admin, as `/` does; every request is logged through `tracing` (`RUST_LOG`, default `info`).

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use castellan_admin::{Admin, AdminPages};
use castellan_axum::{AuthConfig, AuthLayer};
use castellan_core::TrustedGroups;
use castellan_store::{Error, Store};

use crate::args::Serve;
use crate::Outcome;

/// The key `--insecure-dev-key` uses: public, so sessions signed with it can be forged.
const DEV_KEY: &str = "django-insecure-castellan-serve-development-key-do-not-use";

/// The secret key: `CASTELLAN_SECRET_KEY`, else the development key when allowed, else an error.
pub(crate) fn secret_key(env: Option<String>, insecure_dev_key: bool) -> Result<String, Error> {
    match env.filter(|k| !k.is_empty()) {
        Some(key) => Ok(key),
        None if insecure_dev_key => {
            eprintln!("warning: using the public development secret key (--insecure-dev-key); never do this in production");
            Ok(DEV_KEY.to_owned())
        }
        None => Err(Error::Refused(
            "no secret key: set CASTELLAN_SECRET_KEY (the Django project's SECRET_KEY to share its sessions), \
             or pass --insecure-dev-key for local development"
                .into(),
        )),
    }
}

/// The web settings from the command line: HTTPS mode, HSTS, allowed hosts (default: the bind
/// address and localhost on its port) and trusted proxies.
pub(crate) fn config(key: String, args: &Serve, pages: AdminPages) -> AuthConfig {
    let allowed_hosts = if args.allowed_hosts.is_empty() {
        castellan_axum::default_allowed_hosts(&args.bind)
    } else {
        args.allowed_hosts.clone()
    };
    let mut trusted = TrustedGroups::new();
    for name in &args.trusted_groups {
        trusted.trust(name.clone(), "castellan serve --trusted-group");
    }
    AuthConfig::new(key)
        .with_login_redirect_url("/admin/")
        .with_pages(pages.with_admin_url("/admin/"))
        .with_trusted_groups(trusted)
        .with_https(args.https)
        .with_hsts_seconds(args.hsts_seconds)
        .with_allowed_hosts(allowed_hosts)
        .with_trusted_proxies(args.trusted_proxies.iter().copied())
}

/// Builds the application: `/admin/…` and `/accounts/…` behind the auth layer, `/` redirecting to
/// the admin; any other path is the 404 page (in the admin's look).
pub(crate) async fn app(store: &Store, config: AuthConfig) -> Result<Router, Error> {
    let auth = AuthLayer::new(store.clone(), config)
        .await
        .map_err(|e| Error::Refused(format!("cannot start the web layer: {e}")))?;
    Ok(Router::new()
        .route("/", get(|| async { Redirect::to("/admin/") }))
        .merge(Admin::new(store.clone()).router_at("/admin"))
        .nest("/accounts", castellan_axum::router())
        .fallback(castellan_axum::not_found)
        .layer(auth))
}

/// Runs the server until Ctrl-C.
pub(crate) async fn run(store: &Store, args: Serve) -> Result<Outcome, Error> {
    let key = secret_key(
        std::env::var("CASTELLAN_SECRET_KEY").ok(),
        args.insecure_dev_key,
    )?;
    // Request logs (and the layer's own events) on stderr, written in batches by a background
    // thread so a slow terminal never holds a request up; RUST_LOG filters, default info. A
    // subscriber installed earlier (a test, an embedding program) is kept. The flusher writes
    // what is left at the end.
    let (writer, _flush_logs) = castellan_axum::LogWriter::new(std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(move || writer.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    if args.reuse_notified_reads > 0
        && !store.reusing_reads(std::time::Duration::from_secs(2)).await
    {
        eprintln!(
            "castellan: --reuse-notified-reads: not listening for changes (PostgreSQL only; run `castellan migrate` for its triggers); every request reads the database"
        );
    }
    let pages = AdminPages::new().for_user_model(store.user_schema());
    let app = castellan_axum::with_request_log(app(store, config(key, &args, pages)).await?);
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .map_err(|e| {
            Error::Refused(format!(
                "cannot listen on {}: {e}; choose another --bind address",
                args.bind
            ))
        })?;
    let scheme = if args.https { "https" } else { "http" };
    eprintln!(
        "castellan admin: {scheme}://{}/admin/ (Ctrl-C to stop)",
        args.bind
    );
    // The peer address is the client for login throttling (see --trusted-proxy).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| Error::Refused(format!("the server stopped: {e}")))?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unknown_path_is_the_admins_404_page() {
        let Some((_db, store)) =
            castellan_testkit::TestDb::migrated(castellan_testkit::Kind::Sqlite).await
        else {
            panic!("SQLite test databases are always available");
        };
        let app = app(&store, AuthConfig::new("k").with_pages(AdminPages::new()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut client = castellan_testkit::Client::new(app);
        let (status, html) = client.page("/no/such/page/").await;
        assert_eq!(status, axum::http::StatusCode::NOT_FOUND);
        assert!(html.contains("<code>/no/such/page/</code>"), "{html}");
        assert!(html.contains("data-testid=\"not-found-home\""), "{html}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_root_and_a_login_land_on_the_admin() {
        let Some((_db, store)) =
            castellan_testkit::TestDb::migrated(castellan_testkit::Kind::Sqlite).await
        else {
            panic!("SQLite test databases are always available");
        };
        let mut new = castellan_store::NewUser::new("root");
        new.password = Some("correct horse battery".into());
        new.is_staff = true;
        new.is_superuser = true;
        store
            .create_user(new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let args = parse_serve(&[
            "castellan",
            "serve",
            "--allowed-host",
            castellan_testkit::HOST,
        ]);
        let app = app(&store, config("k".into(), &args, AdminPages::new()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut client = castellan_testkit::Client::new(app);
        let r = client.get("/").await;
        assert_eq!(r.status(), axum::http::StatusCode::SEE_OTHER);
        assert_eq!(castellan_testkit::location(&r), "/admin/");
        let r = client.login("root", "correct horse battery").await;
        assert_eq!(r.status(), axum::http::StatusCode::FOUND);
        assert_eq!(castellan_testkit::location(&r), "/admin/");
        let (status, _) = client.page("/admin/").await;
        assert_eq!(status, axum::http::StatusCode::OK);
    }

    fn parse_serve(args: &[&str]) -> crate::args::Serve {
        use clap::Parser;
        match crate::args::Cli::try_parse_from(args) {
            Ok(cli) => match cli.command {
                crate::args::Command::Serve(s) => s,
                other => panic!("not serve: {other:?}"),
            },
            Err(e) => panic!("{e}"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn trusted_group_names_reach_the_admin() {
        use clap::Parser;
        let cli = crate::args::Cli::try_parse_from([
            "castellan",
            "serve",
            "--trusted-group",
            "Editors",
            "--trusted-group",
            "Publishers, Inc.",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let crate::args::Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let Some((_db, store)) =
            castellan_testkit::TestDb::migrated(castellan_testkit::Kind::Sqlite).await
        else {
            panic!("SQLite test databases are always available");
        };
        let layer = AuthLayer::new(store, config("k".into(), &args, AdminPages::new()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let trusted = layer.trusted_groups();
        assert!(trusted.is_trusted("Editors"));
        assert!(trusted.is_trusted("Publishers, Inc."));
        assert!(!trusted.is_trusted("Viewers"));
    }

    #[test]
    fn a_secret_key_is_required_unless_insecure_dev_key() {
        assert!(secret_key(None, false).is_err());
        assert!(secret_key(Some(String::new()), false).is_err());
        assert_eq!(
            secret_key(Some("k".into()), false).ok().as_deref(),
            Some("k")
        );
        assert_eq!(secret_key(None, true).ok().as_deref(), Some(DEV_KEY));
    }

    #[test]
    fn web_flags_reach_the_config() {
        use clap::Parser;
        let parse = |args: &[&str]| match crate::args::Cli::try_parse_from(args) {
            Ok(cli) => match cli.command {
                crate::args::Command::Serve(s) => s,
                other => panic!("not serve: {other:?}"),
            },
            Err(e) => panic!("{e}"),
        };
        let s = parse(&["castellan", "serve", "--bind", "0.0.0.0:9000"]);
        let c = config("k".into(), &s, AdminPages::new());
        let debug = format!("{c:?}");
        assert!(debug.contains("\"localhost:9000\""), "{debug}");
        assert!(debug.contains("https: false"), "{debug}");
        let s = parse(&[
            "castellan",
            "serve",
            "--https",
            "--hsts-seconds",
            "60",
            "--allowed-host",
            "admin.example.com",
            "--allowed-host",
            ".example.org",
        ]);
        let debug = format!("{:?}", config("k".into(), &s, AdminPages::new()));
        assert!(debug.contains("https: true"), "{debug}");
        assert!(
            debug.contains("[\"admin.example.com\", \".example.org\"]"),
            "{debug}"
        );
        assert!(
            crate::args::Cli::try_parse_from(["castellan", "serve", "--hsts-seconds", "5"])
                .is_err()
        );
    }
}
