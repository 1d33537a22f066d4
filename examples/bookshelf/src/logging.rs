//! Logs: `tracing` events (the request log of [`castellan_axum::with_request_log`] included)
//! formatted on the request's thread and written by a background thread, so that a slow terminal,
//! pipe or disk never holds a request up.

use std::io::Write;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Sends the process's logs to `out` through a background writer (`RUST_LOG` filters; default
/// `info`; colours when `ansi`). Keep the guard until the program ends: dropping it flushes
/// what is still queued. A subscriber installed earlier is kept.
pub fn init(out: impl Write + Send + 'static, ansi: bool) -> WorkerGuard {
    // Buffered: the background writer writes what is queued in one go and flushes when the
    // queue is empty, instead of one system call per line.
    let (writer, guard) = tracing_appender::non_blocking(std::io::BufWriter::new(out));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(writer)
        .with_ansi(ansi)
        .try_init();
    guard
}
