//! A small HTTP/1.1 load generator for the benchmark examples (`guard_load`, `bookshelf_load`):
//! keep-alive connections on loopback, each sending one request after the other for a bounded
//! time, with the latency of every request (a connection the server closes is opened again).
//! Cookies are sent as a browser would hold them: the session's and, when asked, the CSRF
//! cookie's. It runs in the server's process, on the same cores, so absolute figures are
//! pessimistic; compare endpoints measured in one run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One answer: status, head (status line and headers) and body.
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers.
    pub head: String,
    /// The body (`Content-Length` bytes).
    pub body: Vec<u8>,
}

/// Sends `raw` on a keep-alive connection and reads one answer (`Content-Length` framing; the
/// benchmarked servers answer so, Django's `CommonMiddleware` included).
///
/// # Panics
///
/// When the connection fails or closes: a benchmark's set-up is wrong.
pub async fn request(conn: &mut TcpStream, buf: &mut Vec<u8>, raw: &[u8]) -> Answer {
    conn.write_all(raw)
        .await
        .unwrap_or_else(|e| panic!("cannot send: {e}"));
    buf.clear();
    let mut chunk = [0u8; 16384];
    loop {
        read_more(conn, buf, &mut chunk).await;
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                read_more(conn, buf, &mut chunk).await;
            }
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = buf[end + 4..end + 4 + len].to_vec();
            return Answer { status, head, body };
        }
    }
}

/// Appends what the connection has next to `buf`.
async fn read_more(conn: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8]) {
    let n = conn
        .read(chunk)
        .await
        .unwrap_or_else(|e| panic!("cannot read: {e}"));
    assert!(n > 0, "the server closed the connection");
    buf.extend_from_slice(&chunk[..n]);
}

/// The command line of a load example: `[SECONDS_PER_ROUND] [CONNECTIONS] [ROUNDS]` (3, 16, 3).
#[derive(Debug, Clone, Copy)]
pub struct Args {
    /// Seconds per endpoint and round.
    pub seconds: u64,
    /// Keep-alive connections.
    pub connections: usize,
    /// Rounds (every endpoint once each).
    pub rounds: usize,
}

impl Args {
    /// From the process's arguments; a missing or unreadable one takes its default.
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let at = |i: usize| args.get(i).and_then(|s| s.parse::<u64>().ok());
        Self {
            seconds: at(0).unwrap_or(3),
            connections: at(1).map_or(16, |n| usize::try_from(n).unwrap_or(16)),
            rounds: at(2).map_or(3, |n| usize::try_from(n).unwrap_or(3)),
        }
    }
}

/// The value of the cookie `name` set by a response head.
pub fn set_cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .find_map(|l| {
            let value = l.split_once(':')?.1.trim();
            let (k, v) = value.split(';').next()?.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// The cookies a browser holds after logging in: the session's and the CSRF cookie's values.
#[derive(Debug, Clone)]
pub struct Login {
    /// `sessionid`.
    pub session: String,
    /// `csrftoken`: the one the login's answer set if it set one (Django rotates the token when
    /// a user logs in), else the login page's.
    pub csrf: String,
}

/// Logs `username` in through the login form at `login_path` (GET for the CSRF cookie, then
/// the POST) and returns the session cookie's value.
///
/// # Panics
///
/// When the login does not redirect with a session cookie.
pub async fn login(addr: SocketAddr, login_path: &str, username: &str, password: &str) -> String {
    login_cookies(addr, login_path, username, password)
        .await
        .session
}

/// As [`login`], returning the CSRF cookie too, as a browser would keep it. The POST carries the
/// token in the `X-CSRFToken` header (Django's `CSRF_HEADER_NAME`) and the `csrftoken` cookie,
/// which Castellan and Django both accept in place of the `csrfmiddlewaretoken` field.
///
/// # Panics
///
/// When the login does not redirect with a session cookie.
pub async fn login_cookies(
    addr: SocketAddr,
    login_path: &str,
    username: &str,
    password: &str,
) -> Login {
    let mut conn = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    let mut buf = Vec::new();
    let get = format!("GET {login_path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let page = request(&mut conn, &mut buf, get.as_bytes()).await;
    assert_eq!(page.status, 200, "login page: {}", page.head);
    let csrf = set_cookie(&page.head, "csrftoken").unwrap_or_else(|| panic!("no csrftoken cookie"));
    if closes(&page.head) {
        conn = TcpStream::connect(addr)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    }
    let body = crate::form_body(&[("username", username), ("password", password)]);
    let post = format!(
        "POST {login_path} HTTP/1.1\r\nHost: {addr}\r\nCookie: csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let answer = request(&mut conn, &mut buf, post.as_bytes()).await;
    assert_eq!(answer.status, 302, "login as {username}: {}", answer.head);
    Login {
        session: set_cookie(&answer.head, "sessionid")
            .unwrap_or_else(|| panic!("no sessionid cookie")),
        csrf: set_cookie(&answer.head, "csrftoken").unwrap_or(csrf),
    }
}

/// The `csrftoken` cookie an anonymous visitor gets from `GET path` (a page that renders a form),
/// to send back afterwards as a browser does.
///
/// # Panics
///
/// When the page does not answer 200 with the cookie.
pub async fn csrf_cookie(addr: SocketAddr, path: &str) -> String {
    let mut conn = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    let get = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let page = request(&mut conn, &mut Vec::new(), get.as_bytes()).await;
    assert_eq!(page.status, 200, "{path}: {}", page.head);
    set_cookie(&page.head, "csrftoken").unwrap_or_else(|| panic!("no csrftoken cookie"))
}

/// Whether an answer's head says the server closes the connection after it (`Connection:
/// close`, as gunicorn's sync workers answer): the next request needs a new connection.
pub fn closes(head: &str) -> bool {
    head.as_bytes()
        .windows(17)
        .any(|w| w.eq_ignore_ascii_case(b"connection: close"))
}

/// What one endpoint is asked: `GET path` with the cookies `csrftoken` (`csrf`) and `sessionid`
/// (`session`), each if any, expecting `status`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The name printed.
    pub name: String,
    /// The path requested.
    pub path: String,
    /// The session cookie's value (`None`: anonymous).
    pub session: Option<String>,
    /// The CSRF cookie's value sent back, as a browser does (`None`: not sent, so every page
    /// with a form makes the server mint and set a new one).
    pub csrf: Option<String>,
    /// The status every answer must have.
    pub status: u16,
}

impl Endpoint {
    /// `GET path` as `session` (or anonymous), expecting 200, without the CSRF cookie.
    pub fn get(name: &str, path: &str, session: Option<&str>) -> Self {
        Self {
            name: name.to_owned(),
            path: path.to_owned(),
            session: session.map(str::to_owned),
            csrf: None,
            status: 200,
        }
    }

    /// The same request sending the `csrftoken` cookie `csrf` back too (`None`: not sent).
    #[must_use]
    pub fn with_csrf(mut self, csrf: Option<&str>) -> Self {
        self.csrf = csrf.map(str::to_owned);
        self
    }

    /// The `Cookie` header line this endpoint sends (empty: none).
    fn cookie_line(&self) -> String {
        let cookies: Vec<String> = [("csrftoken", &self.csrf), ("sessionid", &self.session)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        if cookies.is_empty() {
            String::new()
        } else {
            format!("Cookie: {}\r\n", cookies.join("; "))
        }
    }
}

/// Requests, total time and every latency of one endpoint.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Requests answered.
    pub requests: u64,
    /// Time spent.
    pub elapsed: Duration,
    /// Each request's latency.
    pub latencies: Vec<Duration>,
}

impl Stats {
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency below which `p` (0–1) of the requests answered.
    pub fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort_unstable();
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// Drives `endpoint` with `connections` keep-alive connections for `time`.
///
/// # Panics
///
/// When an answer has another status than expected.
pub async fn drive(
    addr: SocketAddr,
    endpoint: &Endpoint,
    connections: usize,
    time: Duration,
) -> Stats {
    let cookie = endpoint.cookie_line();
    let raw = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\n{cookie}\r\n",
        endpoint.path
    );
    let start = Instant::now();
    let deadline = start + time;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let raw = raw.clone();
        let want = endpoint.status;
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
            let _ = conn.set_nodelay(true);
            let mut buf = Vec::with_capacity(16384);
            let mut latencies = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let t = Instant::now();
                let answer = request(&mut conn, &mut buf, raw.as_bytes()).await;
                assert_eq!(answer.status, want, "unexpected answer: {}", answer.head);
                if closes(&answer.head) {
                    // A server without keep-alive: the next request opens a connection (counted
                    // in its latency, as a browser would pay it).
                    conn = TcpStream::connect(addr)
                        .await
                        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
                    let _ = conn.set_nodelay(true);
                }
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(
            t.await
                .unwrap_or_else(|e| panic!("a connection failed: {e}")),
        );
    }
    Stats {
        requests: latencies.len() as u64,
        latencies,
        elapsed: start.elapsed(),
    }
}

/// Runs every endpoint for `args.seconds` per round, `args.rounds` times in turn (after a short
/// warm-up), prints a table and returns each endpoint's requests per second, in order.
pub async fn run(addr: SocketAddr, endpoints: &[Endpoint], args: Args) -> Vec<f64> {
    let Args {
        seconds,
        connections,
        rounds,
    } = args;
    for e in endpoints {
        drive(addr, e, connections, Duration::from_millis(500)).await;
    }
    let mut totals = vec![Stats::default(); endpoints.len()];
    for _ in 0..rounds {
        for (e, total) in endpoints.iter().zip(&mut totals) {
            let s = drive(addr, e, connections, Duration::from_secs(seconds)).await;
            total.requests += s.requests;
            total.elapsed += s.elapsed;
            total.latencies.extend(s.latencies);
        }
    }
    println!(
        "{connections} connections, {rounds} rounds × {seconds} s per endpoint, server and client on the same cores"
    );
    println!(
        "{:<24} {:>10} {:>10} {:>10}",
        "endpoint", "req/s", "p50", "p99"
    );
    for (e, total) in endpoints.iter().zip(&mut totals) {
        let rate = total.rate();
        println!(
            "{:<24} {rate:>10.0} {:>8.0}µs {:>8.0}µs",
            e.name,
            total.percentile(0.5).as_secs_f64() * 1e6,
            total.percentile(0.99).as_secs_f64() * 1e6
        );
    }
    totals.iter().map(Stats::rate).collect()
}
