//! Logs: `tracing` events (the request log included) formatted on the request's thread and written
//! by a background thread, so that a slow terminal, pipe or disk never holds a request up; and
//! the request log itself (one line per response, with its status and latency).

use std::io::Write;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
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

/// `router` with the request log: one `INFO` event per response (method, path, status, latency
/// in microseconds), under the target `bookshelf::requests`. One event and no span per request
/// keeps its cost a few percent (`docs/benchmarks.md`).
pub fn with_request_log(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(log_request))
}

async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        target: "bookshelf::requests",
        %method,
        path,
        status = response.status().as_u16(),
        micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    response
}
