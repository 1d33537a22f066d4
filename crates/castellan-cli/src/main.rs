//! The `castellan` binary: parse, run, map the outcome to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = castellan_cli::Cli::parse();
    std::process::ExitCode::from(castellan_cli::main_with(cli))
}
