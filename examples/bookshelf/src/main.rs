//! `bookshelf`: see `bookshelf --help`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let _logs = bookshelf::logging::init(
        std::io::stdout(),
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
    );
    match bookshelf::cli::run(bookshelf::cli::Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bookshelf: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
