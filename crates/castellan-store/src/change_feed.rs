//! PostgreSQL's notifications of changes to what a logged-in request reads: the zero-statement
//! mode of [`StoreOptions::reuse_notified_reads`](crate::StoreOptions::reuse_notified_reads).
//!
//! Castellan's triggers (installed by `migrate`) send a notification on the channel
//! [`CHANNEL`] when a transaction that changed something commits: `g` for grants, groups,
//! memberships, permissions and content types (with the generation bump), `u:ID` for a user row
//! updated or deleted, `s:KEY` for a session row updated or deleted, `*` for a truncated table.
//! A listener task on its own connection turns each one into a mark: a read made before the mark
//! is stale. A session read is reused while no mark at or after its read touches it (everything,
//! its user, or its session key), the listener is connected, and it is younger than the
//! configured bound.
//!
//! The window: a commit is enforced once its notification reached this process (measured
//! in `docs/benchmarks.md`), and in any case after the bound. A lost connection drops everything
//! read before the listener is back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use castellan_core::{UserId, UserPk};
use sqlx::postgres::PgListener;

/// The channel Castellan's triggers notify.
pub(crate) const CHANNEL: &str = "castellan_changes";

/// More marked users or sessions than this and everything is marked at once instead (a bulk
/// update of users or a sweep of expired sessions costs one cache refill, not a growing map).
const MAX_MARKS: usize = 10_000;

/// How long the listener waits before reconnecting after its connection failed.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);

/// What a notification invalidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// Everything: grants, groups, the catalog, a truncated table, or a payload not understood.
    All,
    /// One user's row.
    User(UserId),
    /// One session row.
    Session(String),
}

impl Change {
    /// The change a notification's payload names (anything not understood is [`Change::All`]).
    pub(crate) fn parse(payload: &str, kind: UserPk) -> Self {
        if let Some(id) = payload.strip_prefix("u:") {
            return UserId::parse(kind, id).map_or(Self::All, Self::User);
        }
        match payload.strip_prefix("s:") {
            Some(key) if !key.is_empty() => Self::Session(key.to_owned()),
            _ => Self::All,
        }
    }
}

/// The marks: a counter moved by every notification, and where it stood at the last one for
/// everything, per user and per session.
#[derive(Debug, Default)]
struct Marks {
    counter: i64,
    all: i64,
    users: HashMap<UserId, i64>,
    sessions: HashMap<String, i64>,
}

impl Marks {
    fn apply(&mut self, change: Change) {
        self.counter += 1;
        let n = self.counter;
        match change {
            Change::All => self.mark_all(),
            Change::User(id) => {
                self.users.insert(id, n);
            }
            Change::Session(key) => {
                self.sessions.insert(key, n);
            }
        }
        if self.users.len() > MAX_MARKS || self.sessions.len() > MAX_MARKS {
            self.mark_all();
        }
    }

    /// Everything read until now is stale, without a notification (the listener reconnected,
    /// the triggers went missing): what changed meanwhile went unseen.
    fn invalidate_all(&mut self) {
        self.counter += 1;
        self.mark_all();
    }

    /// Everything read before the current mark is stale (the per-row marks are then redundant).
    fn mark_all(&mut self) {
        self.all = self.counter;
        self.users.clear();
        self.sessions.clear();
    }

    fn unchanged_since(&self, version: i64, user: UserId, key: &str) -> bool {
        self.all <= version
            && self.users.get(&user).is_none_or(|&m| m <= version)
            && self.sessions.get(key).is_none_or(|&m| m <= version)
    }
}

/// State shared by the listener task and the store.
#[derive(Debug, Default)]
struct Shared {
    marks: Mutex<Marks>,
    /// The listener is connected and listening (else nothing is reused).
    listening: AtomicBool,
    /// The triggers that notify are installed (checked when the store opens and after `migrate`).
    triggers: AtomicBool,
}

impl Shared {
    fn marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The listener of one store; dropping the last clone of the store stops it.
#[derive(Debug)]
pub(crate) struct ChangeFeed {
    shared: Arc<Shared>,
    max_age: Duration,
    task: tokio::task::AbortHandle,
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ChangeFeed {
    /// Starts listening on a connection of `pool`; reads are reused for at most `max_age`.
    pub(crate) fn start(pool: sqlx::PgPool, kind: UserPk, max_age: Duration) -> Self {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(listen(pool, kind, Arc::clone(&shared))).abort_handle();
        Self {
            shared,
            max_age,
            task,
        }
    }

    /// Whether the notifying triggers are in place (nothing is reused without them).
    pub(crate) fn set_triggers(&self, installed: bool) {
        if !installed {
            self.shared.marks().invalidate_all();
        }
        self.shared.triggers.store(installed, Ordering::Release);
    }

    /// The version to remember with a read about to be made, or `None` when reads may not be
    /// reused now (not listening, triggers missing).
    pub(crate) fn snapshot(&self) -> Option<i64> {
        self.usable().then(|| self.shared.marks().counter)
    }

    /// Whether a read made at `version` (at `read_at`) of `user`'s session `key` may be reused.
    pub(crate) fn fresh(&self, version: i64, read_at: Instant, user: UserId, key: &str) -> bool {
        self.usable()
            && read_at.elapsed() < self.max_age
            && self.shared.marks().unchanged_since(version, user, key)
    }

    fn usable(&self) -> bool {
        self.shared.listening.load(Ordering::Acquire)
            && self.shared.triggers.load(Ordering::Acquire)
    }

    /// Waits until the listener is listening, for at most `timeout` (start-up and tests).
    pub(crate) async fn wait_listening(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.shared.listening.load(Ordering::Acquire) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// The listener task: connect, listen, turn notifications into marks; on any failure stop
/// reusing, and after reconnecting drop everything read before.
async fn listen(pool: sqlx::PgPool, kind: UserPk, shared: Arc<Shared>) {
    let mut warned = false;
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.eager_reconnect(false);
            l.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        }
        .await;
        match listener {
            Ok(mut listener) => {
                warned = false;
                // Whatever changed while nobody listened: everything read before is stale.
                shared.marks().invalidate_all();
                shared.listening.store(true, Ordering::Release);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) => shared.marks().apply(Change::parse(n.payload(), kind)),
                        Ok(None) | Err(_) if pool.is_closed() => break,
                        Ok(None) => {
                            tracing::warn!(
                                "castellan-store: the connection listening for changes was lost; reading sessions from the database until it is back"
                            );
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(
                                "castellan-store: listening for changes failed ({e}); reading sessions from the database until it is back"
                            );
                            break;
                        }
                    }
                }
                shared.listening.store(false, Ordering::Release);
                shared.marks().invalidate_all();
                if pool.is_closed() {
                    return; // the store was closed: nothing to listen for any more
                }
            }
            Err(_) if pool.is_closed() => return,
            Err(e) => {
                if !warned {
                    tracing::warn!(
                        "castellan-store: cannot listen for changes ({e}); reading sessions from the database until it can"
                    );
                    warned = true;
                }
            }
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads() {
        assert_eq!(Change::parse("g", UserPk::Integer), Change::All);
        assert_eq!(Change::parse("*", UserPk::Integer), Change::All);
        assert_eq!(
            Change::parse("u:42", UserPk::Integer),
            Change::User(UserId::Int(42))
        );
        assert_eq!(Change::parse("u:x", UserPk::Integer), Change::All);
        assert_eq!(
            Change::parse("s:abc", UserPk::Integer),
            Change::Session("abc".into())
        );
        assert_eq!(Change::parse("s:", UserPk::Integer), Change::All);
        assert_eq!(Change::parse("", UserPk::Integer), Change::All);
    }

    #[test]
    fn a_mark_after_a_read_makes_it_stale_and_only_what_it_touches() {
        let mut m = Marks::default();
        let (a, b) = (UserId::Int(1), UserId::Int(2));
        let v = m.counter;
        assert!(m.unchanged_since(v, a, "k1"));
        m.apply(Change::User(a));
        assert!(!m.unchanged_since(v, a, "k1"));
        assert!(m.unchanged_since(v, b, "k2"));
        m.apply(Change::Session("k2".into()));
        assert!(!m.unchanged_since(v, b, "k2"));
        assert!(m.unchanged_since(v, b, "k3"));
        // A read made after the marks is fresh.
        let later = m.counter;
        assert!(m.unchanged_since(later, a, "k2"));
        m.apply(Change::All);
        assert!(!m.unchanged_since(later, b, "k3"));
        // A reconnection invalidates even a read made at the current mark.
        let now = m.counter;
        m.invalidate_all();
        assert!(!m.unchanged_since(now, b, "k3"));
    }

    #[test]
    fn too_many_marks_mark_everything() {
        let mut m = Marks::default();
        let v = m.counter;
        for i in 0..=i64::try_from(MAX_MARKS).unwrap_or(i64::MAX) {
            m.apply(Change::User(UserId::Int(i + 100)));
        }
        assert!(m.users.is_empty());
        assert!(!m.unchanged_since(v, UserId::Int(1), "k"));
    }
}
