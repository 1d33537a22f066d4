//! [`with_request_log`]: one `tracing` event per answered request. Installing a subscriber (and
//! where its output goes) is the program's choice; this only emits the events.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;

/// `router` with a request log: one `INFO` event per response, under the target
/// `castellan_axum::request_log`, with the method, the path, the status and the latency in
/// microseconds. One event and no span per request keeps its cost low (a span per request,
/// `tower_http`'s `TraceLayer`, cost a third more in Bookshelf's load test).
pub fn with_request_log(router: Router) -> Router {
    router.layer(axum::middleware::from_fn(log_request))
}

async fn log_request(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
    );
    response
}
