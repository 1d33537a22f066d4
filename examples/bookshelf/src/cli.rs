//! The `bookshelf` command: options, start-up, the demo data, serving with request logs and a
//! clean shutdown on Ctrl-C.

use std::net::SocketAddr;

use anyhow::{bail, Context};
use castellan_store::StoreOptions;
use clap::Parser;
use rand_core::{OsRng, RngCore};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::demo::DemoPassword;
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
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// The session signing key (Django's SECRET_KEY). Required unless --demo.
    #[arg(long, env = "BOOKSHELF_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
}

/// A random key for a demo run (sessions do not survive a restart).
fn random_key() -> Vec<u8> {
    let mut key = [0u8; 48];
    OsRng.fill_bytes(&mut key);
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
    let app = Bookshelf::connect(&args.database_url, StoreOptions::default()).await?;
    app.setup().await?;
    if args.demo {
        let password = std::env::var("BOOKSHELF_DEMO_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let report = app.seed_demo(password.as_deref()).await?;
        print_demo(&report);
    }
    let router = app.router(secret).await?.layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    );
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another server using it? Pick another with --bind",
                args.bind
            )
        })?;
    tracing::info!(
        "Bookshelf is running on http://{}/ (the admin at /admin/; Ctrl-C stops it)",
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
    app.db.close().await;
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
