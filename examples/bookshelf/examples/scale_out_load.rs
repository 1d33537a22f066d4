//! Scale-out benchmark (issue #14): Bookshelf processes on one PostgreSQL database, each on its
//! own port, as behind a load balancer.
//!
//! 1. Throughput of the guarded page (`GET /books/add/` as `editor`) with one process, then with
//!    two sharing the same connections, in the default mode (one statement per request) and with
//!    `--reuse-notified-reads`.
//! 2. Revocation latency under that load: the benchmark revokes Editors' `add_book` (one
//!    transaction, from its own connection: "any process"), and measures the time from the
//!    commit to the first refused answer each process sends, then grants it back; repeated, p50
//!    and p99 per mode.
//!
//! ```sh
//! cargo build --release -p bookshelf --bin bookshelf --example scale_out_load
//! CASTELLAN_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test \
//!     target/release/examples/scale_out_load [SECONDS] [CONNECTIONS] [REVOCATIONS]
//! ```
//! The `bookshelf` binary is taken beside this example's directory (`target/release/`) or from
//! `BOOKSHELF_BIN`. The load generator runs in this process, on the same cores as the servers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark tool: panics on failed set-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use castellan_testkit::load;
use castellan_testkit::{Kind, Server, TestDb};
use tokio::net::TcpStream;

const PASSWORD: &str = "scale-out load password";
const SECRET: &str = "scale-out-load-secret-key-shared-by-every-instance";

fn bookshelf_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BOOKSHELF_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("bookshelf");
    assert!(
        bin.exists(),
        "{} missing: build it (see the header) or set BOOKSHELF_BIN",
        bin.display()
    );
    bin
}

async fn start(url: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(extra);
    let envs = [
        ("BOOKSHELF_SECRET_KEY", SECRET),
        ("BOOKSHELF_DEMO_PASSWORD", PASSWORD),
        ("RUST_LOG", "warn"),
    ];
    Server::start(&bookshelf_bin(), &args, &envs).await
}

/// What the load connections of one process report: answers, and the first refusal since the
/// revoker last reset it (nanoseconds since `epoch`, 0: none yet).
struct Seen {
    answers: AtomicU64,
    first_refusal: AtomicU64,
}

/// Drives `GET /books/add/` as `session` on `addr` with `connections` connections until `stop`;
/// 200 and 403 are both expected (the permission comes and goes).
fn drive(
    addr: SocketAddr,
    session: &str,
    connections: usize,
    stop: Arc<AtomicBool>,
    seen: Arc<Seen>,
    epoch: Instant,
) -> Vec<tokio::task::JoinHandle<()>> {
    let raw =
        format!("GET /books/add/ HTTP/1.1\r\nHost: {addr}\r\nCookie: sessionid={session}\r\n\r\n");
    (0..connections)
        .map(|_| {
            let (raw, stop, seen) = (raw.clone(), Arc::clone(&stop), Arc::clone(&seen));
            tokio::spawn(async move {
                let mut conn = TcpStream::connect(addr).await.unwrap();
                let _ = conn.set_nodelay(true);
                let mut buf = Vec::with_capacity(16384);
                while !stop.load(Ordering::Relaxed) {
                    let answer = load::request(&mut conn, &mut buf, raw.as_bytes()).await;
                    seen.answers.fetch_add(1, Ordering::Relaxed);
                    match answer.status {
                        200 => {}
                        403 => {
                            let at = u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                            let _ = seen.first_refusal.compare_exchange(
                                0,
                                at,
                                Ordering::Relaxed,
                                Ordering::Relaxed,
                            );
                        }
                        s => panic!("unexpected answer {s}: {}", answer.head),
                    }
                }
            })
        })
        .collect()
}

/// The guarded page driven on several processes, the connections split between them.
struct Load {
    stop: Arc<AtomicBool>,
    epoch: Instant,
    /// Per process.
    seen: Vec<Arc<Seen>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(instances: &[&Server], session: &str, connections: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let seen: Vec<_> = instances
            .iter()
            .map(|_| {
                Arc::new(Seen {
                    answers: AtomicU64::new(0),
                    first_refusal: AtomicU64::new(0),
                })
            })
            .collect();
        let mut tasks = Vec::new();
        for (i, s) in instances.iter().zip(&seen) {
            tasks.extend(drive(
                i.addr,
                session,
                connections / instances.len(),
                Arc::clone(&stop),
                Arc::clone(s),
                epoch,
            ));
        }
        Self {
            stop,
            epoch,
            seen,
            tasks,
        }
    }

    async fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
    }
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    v.get(((v.len().max(1) - 1) as f64 * p).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// Aggregate answers per second of the guarded page over `instances`, the connections split
/// between them.
async fn throughput(instances: &[&Server], session: &str, connections: usize, secs: u64) -> f64 {
    let load = Load::start(instances, session, connections);
    let seen = load.seen.clone();
    tokio::time::sleep(Duration::from_millis(500)).await; // warm-up
    let before: u64 = seen.iter().map(|s| s.answers.load(Ordering::Relaxed)).sum();
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let after: u64 = seen.iter().map(|s| s.answers.load(Ordering::Relaxed)).sum();
    let rate = (after - before) as f64 / t.elapsed().as_secs_f64();
    load.stop().await;
    rate
}

/// Revokes and re-grants `add_book` `times` times under load on `instances`; the latency from
/// each revoking commit to each process's first refusal.
async fn revocation_latency(
    store: &castellan_store::Store,
    instances: &[&Server],
    session: &str,
    connections: usize,
    times: usize,
) -> Vec<Duration> {
    let load = Load::start(instances, session, connections);
    let (epoch, seen) = (load.epoch, load.seen.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let perm = vec!["bookshelf.add_book".to_owned()];
    let mut latencies = Vec::new();
    for _ in 0..times {
        for s in &seen {
            s.first_refusal.store(0, Ordering::Relaxed);
        }
        store.revoke_group("Editors", &perm).await.unwrap();
        let committed = u64::try_from(epoch.elapsed().as_nanos()).unwrap();
        for s in &seen {
            let waited = Instant::now();
            loop {
                let at = s.first_refusal.load(Ordering::Relaxed);
                if at >= committed {
                    latencies.push(Duration::from_nanos(at - committed));
                    break;
                }
                if at != 0 {
                    // An answer of the previous round, sent before this commit.
                    s.first_refusal.store(0, Ordering::Relaxed);
                }
                assert!(
                    waited.elapsed() < Duration::from_secs(5),
                    "no refusal within 5 s"
                );
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        store.grant_group("Editors", &perm).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    load.stop().await;
    latencies
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let secs = args.first().copied().unwrap_or(3);
    let connections = usize::try_from(args.get(1).copied().unwrap_or(16)).unwrap();
    let times = usize::try_from(args.get(2).copied().unwrap_or(40)).unwrap();
    let db = TestDb::create(Kind::Postgres)
        .await
        .expect("set CASTELLAN_TEST_POSTGRES (a server URL; a fresh database is made on it)");
    let store = castellan_store::Store::connect(&db.url).await.unwrap();
    println!("PostgreSQL, {connections} connections split between the processes, load generator in this process");
    println!(
        "{:<34} {:>12} {:>12} {:>14} {:>14}",
        "mode", "1 process", "2 processes", "revoke p50", "revoke p99"
    );
    for (mode, extra) in [
        ("one statement per request", &[][..]),
        (
            "--reuse-notified-reads 60000",
            &["--reuse-notified-reads", "60000"][..],
        ),
    ] {
        let mut first_args = vec!["--demo"];
        first_args.extend_from_slice(extra);
        let a = start(&db.url, &first_args).await;
        let b = start(&db.url, extra).await;
        let editor = load::login(a.addr, "/accounts/login/", "editor", PASSWORD).await;
        let one = throughput(&[&a], &editor, connections, secs).await;
        let two = throughput(&[&a, &b], &editor, connections, secs).await;
        let mut lat = revocation_latency(&store, &[&a, &b], &editor, connections, times).await;
        let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
        println!(
            "{mode:<34} {one:>8.0} r/s {two:>8.0} r/s {:>11.2} ms {:>11.2} ms",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
    store.close().await;
}
