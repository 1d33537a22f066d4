//! The `bookshelf` command: options, start-up, the demo data, serving with request logs and a
//! clean shutdown on Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use castellan_core::UserModel;
use castellan_store::StoreOptions;
use clap::Parser;
use getrandom::SysRng;
use rand_core::{Rng, UnwrapErr};

use crate::demo::DemoPassword;
use crate::web::render::{self, Templates};
use crate::Bookshelf;

/// Bookshelf: the guide's library and content-management application on Castellan.
#[derive(Debug, Parser)]
#[command(name = "bookshelf", version)]
pub struct Args {
    /// Create the demo users (viewer, editor, publisher, admin, member, librarian, author,
    /// reviewer, chief, and the superuser root) and sample books and articles.
    #[arg(long)]
    pub demo: bool,
    /// The database: sqlite://PATH, postgres://… or mysql://… (mariadb://…).
    #[arg(
        long,
        env = "BOOKSHELF_DATABASE_URL",
        default_value = "sqlite://bookshelf.sqlite3"
    )]
    pub database_url: String,
    /// The Django project's user model, as AUTH_USER_MODEL names it (APP_LABEL.ModelName): its
    /// table must exist (the project's `manage.py migrate` makes it); articles and borrows point
    /// at it.
    #[arg(long, env = "CASTELLAN_USER_MODEL", default_value = "auth.User")]
    pub user_model: String,
    /// The user model's USERNAME_FIELD (what users log in with).
    #[arg(long, env = "CASTELLAN_USERNAME_FIELD", default_value = "username")]
    pub username_field: String,
    /// The user table, when the model sets Meta.db_table (default: APP_LABEL_modelname).
    #[arg(long, env = "CASTELLAN_USER_TABLE")]
    pub user_table: Option<String>,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// The session signing key (Django's SECRET_KEY). Required unless --demo.
    #[arg(long, env = "BOOKSHELF_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Served over HTTPS (directly or behind a TLS proxy): Secure cookies, https-only `next`,
    /// strict Referer checks.
    #[arg(long)]
    pub https: bool,
    /// With --https, send Strict-Transport-Security with this max-age (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 0, requires = "https")]
    pub hsts_seconds: u64,
    /// A Host the server answers (repeatable; `.example.com` includes subdomains, `*` any).
    /// Default: the --bind host, and localhost, 127.0.0.1 and `[::1]` on its port.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// A reverse proxy (IP address, repeatable) whose X-Forwarded-For names the client for
    /// login throttling.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// PostgreSQL: serve a logged-in request's session, user and permissions from memory while
    /// no change was notified, reusing a read for at most this many milliseconds (0, the
    /// default: one statement per request, every change enforced on the next request). A change
    /// made by any process is then enforced once its notification arrives (see the README).
    #[arg(
        long,
        value_name = "MILLISECONDS",
        env = "BOOKSHELF_REUSE_NOTIFIED_READS_MS",
        default_value_t = 0
    )]
    pub reuse_notified_reads: u64,
}

/// The auth settings from the command line (HTTPS, HSTS, allowed hosts, trusted proxies) on top
/// of [`Bookshelf::auth_config`].
pub fn auth_config(
    args: &Args,
    secret: Vec<u8>,
    templates: Arc<Templates>,
) -> castellan_axum::AuthConfig {
    let allowed_hosts = if args.allowed_hosts.is_empty() {
        castellan_axum::default_allowed_hosts(&args.bind.to_string())
    } else {
        args.allowed_hosts.clone()
    };
    Bookshelf::auth_config(secret, templates)
        .with_https(args.https)
        .with_hsts_seconds(args.hsts_seconds)
        .with_allowed_hosts(allowed_hosts)
        .with_trusted_proxies(args.trusted_proxies.iter().copied())
}

/// The store's options: the user model the command line names.
pub fn store_options(args: &Args) -> anyhow::Result<StoreOptions> {
    let mut model = UserModel::parse(&args.user_model)
        .and_then(|m| m.with_username_field(&args.username_field))
        .context("--user-model / --username-field")?;
    if let Some(table) = &args.user_table {
        model = model.with_db_table(table).context("--user-table")?;
    }
    Ok(StoreOptions {
        user_model: model,
        reuse_notified_reads: (args.reuse_notified_reads > 0)
            .then(|| std::time::Duration::from_millis(args.reuse_notified_reads)),
        ..StoreOptions::default()
    })
}

/// A random key for a demo run (sessions do not survive a restart).
fn random_key() -> Vec<u8> {
    let mut key = [0u8; 48];
    UnwrapErr(SysRng).fill_bytes(&mut key);
    key.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes()
}

/// Runs the command until Ctrl-C.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let secret = match (&args.secret_key, args.demo) {
        (Some(k), _) if !k.is_empty() => k.clone().into_bytes(),
        (_, true) => {
            tracing::warn!(
                "no --secret-key / BOOKSHELF_SECRET_KEY: using a random key; sessions end when the server restarts"
            );
            random_key()
        }
        _ => bail!(
            "no secret key: pass --secret-key or set BOOKSHELF_SECRET_KEY (a long random string), or use --demo"
        ),
    };
    let app = Bookshelf::connect(&args.database_url, store_options(&args)?).await?;
    app.setup().await?;
    if args.demo {
        let password = std::env::var("BOOKSHELF_DEMO_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let report = app.seed_demo(password.as_deref()).await?;
        print_demo(&report);
    }
    if app
        .store
        .reusing_reads(std::time::Duration::from_secs(2))
        .await
    {
        tracing::info!(
            "logged-in requests reuse unchanged reads (no statement while nothing changed)"
        );
    } else if args.reuse_notified_reads > 0 {
        tracing::warn!("--reuse-notified-reads: not listening for changes yet (or not PostgreSQL); every request reads the database until it is");
    }
    let templates = Arc::new(render::templates().context("a built-in template is invalid")?);
    let config = auth_config(&args, secret, Arc::clone(&templates));
    let router = castellan_axum::with_request_log(app.router_with(config, templates).await?);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? Pick another with --bind",
                args.bind
            )
        })?;
    let scheme = if args.https { "https" } else { "http" };
    tracing::info!(
        "Bookshelf is running on {scheme}://{}/ (the admin at /admin/; Ctrl-C stops it)",
        args.bind
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down");
    })
    .await
    .context("the server failed")?;
    app.store.close().await;
    Ok(())
}

fn print_demo(report: &[(String, DemoPassword)]) {
    println!("Demo users (root and admin are staff: they may use /admin/):");
    for (name, outcome) in report {
        match outcome {
            DemoPassword::Generated(pw) => println!("  {name:<10} password {pw}   (shown once)"),
            DemoPassword::Given => println!("  {name:<10} password from BOOKSHELF_DEMO_PASSWORD"),
            DemoPassword::Unchanged => println!("  {name:<10} existing user, password unchanged"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn config(args: &[&str]) -> String {
        let args = Args::try_parse_from(args).unwrap();
        let templates = Arc::new(crate::web::render::templates().unwrap());
        format!("{:?}", auth_config(&args, b"k".to_vec(), templates))
    }

    #[test]
    fn web_flags_reach_the_auth_config() {
        let default = config(&["bookshelf", "--bind", "127.0.0.1:8123"]);
        assert!(default.contains("\"127.0.0.1:8123\""), "{default}");
        assert!(default.contains("\"localhost:8123\""), "{default}");
        assert!(default.contains("https: false"), "{default}");
        let custom = config(&[
            "bookshelf",
            "--https",
            "--hsts-seconds",
            "60",
            "--allowed-host",
            "books.example.org",
        ]);
        assert!(custom.contains("https: true"), "{custom}");
        assert!(
            custom.contains("allowed_hosts: [\"books.example.org\"]"),
            "{custom}"
        );
        assert!(Args::try_parse_from(["bookshelf", "--hsts-seconds", "60"]).is_err());
    }
}
