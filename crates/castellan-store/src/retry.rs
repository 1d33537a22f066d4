//! Retrying a transaction that collided with concurrent ones (SQLite busy, a PostgreSQL
//! serialization failure or deadlock, a MariaDB deadlock or lock wait timeout).

use std::time::Duration;

use crate::error::Result;

/// How many times [`retry_busy`] tries a transaction in all.
pub(crate) const BUSY_ATTEMPTS: u32 = 6;

/// Runs `attempt` (one whole transaction) again while it fails with [`Error::Busy`] (a collision
/// with concurrent transactions on a reachable database), at most [`BUSY_ATTEMPTS`] times in all,
/// pausing a short, growing, randomised time between tries so that the colliding transactions do
/// not meet again. The last [`Error::Busy`] is returned when every try collided (the admin answers
/// it with 409); any other result is returned at once.
pub(crate) async fn retry_busy<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.is_busy() && tries < BUSY_ATTEMPTS => {
                tracing::debug!(error = %e, tries, "transaction collided; retrying");
                tokio::time::sleep(busy_pause(tries)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// The pause after the `tries`-th collision: a random time up to 10 ms · 2^tries (20 ms, 40 ms, …
/// 320 ms: at most about 0.6 s over all tries).
fn busy_pause(tries: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let ceiling_ms = 10u64 << tries.min(6);
    // A fresh random seed per call (std's per-map keys), without a random-number crate.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(1 + random % ceiling_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[tokio::test]
    async fn collisions_are_retried_a_bounded_number_of_times() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let busy = || Error::Busy(sqlx::Error::PoolTimedOut);
        // Two collisions, then success: three tries.
        let tries = AtomicU32::new(0);
        let r = retry_busy(|| async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(busy()),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!((r.ok(), tries.load(Ordering::SeqCst)), (Some(7), 3));
        // Always colliding: given up after BUSY_ATTEMPTS tries, still Busy.
        let tries = AtomicU32::new(0);
        let r: Result<()> = retry_busy(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(busy())
        })
        .await;
        assert!(r.is_err_and(|e| e.is_busy()));
        assert_eq!(tries.load(Ordering::SeqCst), BUSY_ATTEMPTS);
        // Any other error: no retry.
        let tries = AtomicU32::new(0);
        let r: Result<()> = retry_busy(|| async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(Error::Refused("no".into()))
        })
        .await;
        assert!(matches!(r, Err(Error::Refused(_))));
        assert_eq!(tries.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn busy_pauses_stay_short() {
        for tries in 1..BUSY_ATTEMPTS {
            let p = busy_pause(tries);
            assert!(p >= Duration::from_millis(1) && p <= Duration::from_millis(10 << tries));
        }
    }
}
