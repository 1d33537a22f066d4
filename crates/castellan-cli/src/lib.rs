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

pub use args::Cli;

use castellan_store::{Error, Store};

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

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome, Error> {
    let url = database_url(&cli);
    let store = Store::connect(&url)
        .await?
        .with_actor(castellan_store::Actor::cli());
    let result = commands::dispatch(&store, cli).await;
    store.close().await;
    result
}
