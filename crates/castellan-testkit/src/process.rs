//! [`Server`]: a server binary run as its own process on a free loopback port, for tests and
//! benchmarks of several processes on one database (killed when dropped).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

/// How long a server may take to accept connections (migrations, a policy sync, demo users).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A server process and the address it listens on.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Runs `bin` with `args`, `--bind` and a free loopback port, and `envs`; waits until it
    /// accepts connections.
    ///
    /// # Panics
    ///
    /// When the binary cannot be run, or does not listen within a minute (then it is killed).
    pub async fn start(bin: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap_or_else(|e| panic!("no free loopback port: {e}"));
        let child = Command::new(bin)
            .args(args)
            .args(["--bind", &addr.to_string()])
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
        let server = Self { child, addr };
        let start = Instant::now();
        while TcpStream::connect(addr).await.is_err() {
            assert!(
                start.elapsed() < START_TIMEOUT,
                "{} did not listen on {addr} within {START_TIMEOUT:?}",
                bin.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }
}
