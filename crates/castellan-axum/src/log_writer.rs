//! [`LogWriter`]: where a server's log lines go without holding a request up. A line is appended
//! to a buffer in memory (one short lock: no system call, no thread woken), and a background
//! thread writes what has gathered every 50 ms, or as soon as 64 KiB wait: a request wakes no
//! thread (a channel to a sleeping writer, as `tracing-appender`'s, wakes it for a line) and
//! the output sees one write per batch.
//!
//! With `tracing-subscriber`, whose `fmt` writes one event per call:
//!
//! ```ignore
//! let (writer, _flusher) = castellan_axum::LogWriter::new(std::io::stderr());
//! tracing_subscriber::fmt().with_writer(move || writer.clone()).init();
//! // … serve; dropping `_flusher` at the end writes what is left.
//! ```

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the background thread writes what has gathered.
const PERIOD: Duration = Duration::from_millis(50);
/// Waiting bytes that make the background thread write at once.
const EAGER: usize = 64 << 10;
/// Waiting bytes beyond which lines are dropped (and counted) rather than memory growing while
/// the output cannot keep up.
const LIMIT: usize = 16 << 20;

struct Shared {
    waiting: Mutex<Vec<u8>>,
    wake: Condvar,
    dropped: AtomicU64,
    closing: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A cheap, cloneable [`Write`] whose bytes a background thread writes to the output given to
/// [`LogWriter::new`]. Each `write` call should hold whole lines (a `tracing` formatter writes
/// one event per call), so lines from several threads never interleave.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// The background thread of a [`LogWriter`]: dropping it writes what is still waiting and
/// stops the thread. Keep it until the program ends.
#[must_use = "dropping the flusher stops the log output"]
pub struct LogFlusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// A writer to `out`, and the thread that writes to it.
    ///
    /// # Panics
    ///
    /// When the operating system refuses to start a thread.
    pub fn new(out: impl Write + Send + 'static) -> (Self, LogFlusher) {
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Vec::with_capacity(EAGER)),
            wake: Condvar::new(),
            dropped: AtomicU64::new(0),
            closing: AtomicBool::new(false),
        });
        let thread = std::thread::Builder::new()
            .name("castellan-log".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_out(&shared, out)
            })
            .unwrap_or_else(|e| panic!("cannot start the log writer thread: {e}"));
        (
            Self {
                shared: Arc::clone(&shared),
            },
            LogFlusher {
                shared,
                thread: Some(thread),
            },
        )
    }

    /// Lines dropped so far because more than 16 MiB were waiting (the output too slow).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut waiting = self.shared.lock();
        let before = waiting.len();
        if before + bytes.len() > LIMIT {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            waiting.extend_from_slice(bytes);
            if before < EAGER && waiting.len() >= EAGER {
                self.shared.wake.notify_one();
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogFlusher {
    fn drop(&mut self) {
        self.shared.closing.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The background thread: takes what is waiting every [`PERIOD`] (or when woken) and writes it.
/// A failed write loses those lines; there is nowhere else to report it.
fn write_out(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::with_capacity(EAGER);
    let mut reported = 0;
    loop {
        let closing = {
            let mut waiting = shared.lock();
            let closing = shared.closing.load(Ordering::Acquire);
            if !closing && waiting.len() < EAGER {
                waiting = shared
                    .wake
                    .wait_timeout(waiting, PERIOD)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0;
            }
            std::mem::swap(&mut *waiting, &mut batch);
            closing
        };
        let dropped = shared.dropped.load(Ordering::Relaxed);
        if dropped > reported {
            let _ = writeln!(
                out,
                "castellan: {} log lines dropped: the log output could not keep up",
                dropped - reported
            );
            reported = dropped;
        }
        if !batch.is_empty() {
            let _ = out.write_all(&batch);
            batch.clear();
        }
        let _ = out.flush();
        if closing && shared.lock().is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).extend(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into()
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_by_the_end() {
        let sink = Sink::default();
        let (writer, flusher) = LogWriter::new(sink.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..2000 {
                        let _ = w.write(format!("thread {t} line {i:04}\n").as_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
        drop(flusher);
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8000);
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..2000)
                .map(|i| format!("thread {t} line {i:04}"))
                .collect();
            assert_eq!(mine, expected, "in order, none lost or cut");
        }
        assert_eq!(writer.dropped(), 0);
    }

    #[test]
    fn lines_reach_the_output_without_waiting_for_the_end() {
        let sink = Sink::default();
        let (mut writer, _flusher) = LogWriter::new(sink.clone());
        let _ = writer.write(b"hello\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.text(), "hello\n");
    }

    #[test]
    fn a_stuck_output_drops_lines_past_the_limit_and_says_so() {
        /// Blocks every write until released.
        struct Stuck(Arc<(Mutex<bool>, Condvar)>, Sink);
        impl Write for Stuck {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let (open, cv) = &*self.0;
                let mut open = open.lock().unwrap_or_else(|p| p.into_inner());
                while !*open {
                    open = cv.wait(open).unwrap_or_else(|p| p.into_inner());
                }
                self.1.write(b)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let sink = Sink::default();
        let (mut writer, flusher) = LogWriter::new(Stuck(Arc::clone(&gate), sink.clone()));
        let line = vec![b'x'; 1023];
        // Past the limit whatever the thread took before it got stuck.
        for _ in 0..(2 * LIMIT / 1024 + 64) {
            let _ = writer.write(&[&line[..], b"\n"].concat());
        }
        assert!(writer.dropped() > 0);
        {
            let (open, cv) = &*gate;
            *open.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_all();
        }
        drop(flusher);
        let text = sink.text();
        assert!(text.contains("log lines dropped"), "the loss is reported");
        assert!(text.len() <= 2 * LIMIT + 4096);
    }
}
