//! # castellan-cli
//!
//! The `castellan` command line: thin command modules over `castellan-core` and `castellan-store`.
//! Errors become exit codes in one place ([`main_with`]):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success; for `check` and `authenticate`: allowed |
//! | 1 | denied / false |
//! | 2 | usage or input error (nothing was changed) |
//! | 3 | database unavailable |

mod args;
mod commands;
mod output;
mod password;

pub use args::Cli;

use castellan_core::UserModel;
use castellan_store::{Error, Store, StoreOptions};

/// Outcome of a command that ran: allowed/success or denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1.
    Denied,
}

/// The database URL: `--database-url`, else `CASTELLAN_DATABASE_URL`, else `DATABASE_URL`, else the
/// embedded SQLite file `castellan.sqlite3`.
pub fn database_url(cli: &Cli) -> String {
    cli.database_url
        .clone()
        .or_else(|| {
            std::env::var("CASTELLAN_DATABASE_URL")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "sqlite://castellan.sqlite3".to_owned())
}

/// Runs a parsed command line and returns the process exit code, printing errors to stderr.
pub fn main_with(cli: Cli) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 3;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Success) => 0,
        Ok(Outcome::Denied) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            exit_code(&e)
        }
    }
}

/// The exit code for an error.
pub fn exit_code(e: &Error) -> u8 {
    if e.is_unavailable() {
        3
    } else {
        2
    }
}

/// Only `migrate` may create a missing SQLite file: any other command (all of them need the
/// schema) refuses with "database unavailable" (exit 3) and leaves no empty file behind.
fn refuse_missing_sqlite_file(url: &str) -> Result<(), Error> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(());
    }
    // The file name exactly as the driver will read it from the URL (percent-decoded, without
    // the query); a URL the driver cannot read is left to `Store::connect` to refuse.
    let Ok(options) = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(url)
    else {
        return Ok(());
    };
    let path = options.get_filename();
    if path.exists() {
        return Ok(());
    }
    Err(Error::Unavailable(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!(
            "the SQLite database file {:?} does not exist (nothing was created); run `castellan migrate` to create it",
            path.display().to_string()
        ),
    ))))
}

/// The user model the global options name.
pub fn user_model(cli: &Cli) -> Result<UserModel, Error> {
    let mut model = UserModel::parse(&cli.user_model)?.with_username_field(&cli.username_field)?;
    if let Some(table) = &cli.user_table {
        model = model.with_db_table(table)?;
    }
    Ok(model)
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome, Error> {
    let url = database_url(&cli);
    if !matches!(cli.command, args::Command::Migrate(_)) {
        refuse_missing_sqlite_file(&url)?;
    }
    let object_tables = cli
        .object_tables
        .iter()
        .map(|m| castellan_store::ObjectTable::parse_mapping(m))
        .collect::<Result<Vec<_>, _>>()?;
    let reuse_notified_reads = match &cli.command {
        args::Command::Serve(s) if s.reuse_notified_reads > 0 => {
            Some(std::time::Duration::from_millis(s.reuse_notified_reads))
        }
        _ => None,
    };
    let options = StoreOptions {
        user_model: user_model(&cli)?,
        object_tables,
        reuse_notified_reads,
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url, options)
        .await?
        .with_actor(castellan_store::Actor::cli());
    let result = commands::dispatch(&store, cli).await;
    store.close().await;
    result
}
