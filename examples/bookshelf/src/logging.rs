//! Logs: `tracing` events (the request log of [`castellan_axum::with_request_log`] included)
//! formatted on the request's thread into [`castellan_axum::LogWriter`]'s buffer, which a
//! background thread writes out in batches, so that a slow terminal, pipe or disk never holds a
//! request up and a request wakes no thread.

use std::io::Write;

use castellan_axum::{LogFlusher, LogWriter};
use tracing_subscriber::EnvFilter;

/// Sends the process's logs to `out` through a background writer (`RUST_LOG` filters; default
/// `info`; colours when `ansi`). Keep the flusher until the program ends: dropping it writes
/// what is still waiting. A subscriber installed earlier is kept.
pub fn init(out: impl Write + Send + 'static, ansi: bool) -> LogFlusher {
    let (writer, flusher) = LogWriter::new(out);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(move || writer.clone())
        .with_ansi(ansi)
        .try_init();
    flusher
}
