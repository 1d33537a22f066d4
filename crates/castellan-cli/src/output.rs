//! Printing and reading: JSON output, and passwords from standard input or a prompt.

use std::io::{BufRead, IsTerminal, Write};

use castellan_store::Error;

/// Prints a value as pretty JSON on stdout.
pub(crate) fn json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

/// Lines written to stdout as they come, buffered; a reader that goes away (`| head`) ends the
/// output quietly instead of failing the command.
pub(crate) struct Lines {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    broken_pipe: bool,
}

impl Lines {
    pub(crate) fn stdout() -> Self {
        Self {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            broken_pipe: false,
        }
    }

    /// Writes one line; an error stops the producer (and is forgiven by [`Lines::finish`] when the
    /// reader went away).
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) -> Result<(), Error> {
        writeln!(self.out, "{text}").map_err(|e| {
            self.broken_pipe = e.kind() == std::io::ErrorKind::BrokenPipe;
            input_error(format!("cannot write to standard output: {e}"))
        })
    }

    /// Ends the output: `produced` is what the producer of the lines returned.
    pub(crate) fn finish<T>(mut self, produced: Result<T, Error>) -> Result<(), Error> {
        match produced {
            Err(_) if self.broken_pipe => return Ok(()),
            other => {
                other?;
            }
        }
        match self.out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(input_error(format!("cannot write to standard output: {e}")))
            }
            _ => Ok(()),
        }
    }
}

/// An input error (exit 2) with a message.
pub(crate) fn input_error(message: impl Into<String>) -> Error {
    Error::Refused(message.into())
}

/// Reads the first line of standard input, without its line ending.
pub(crate) fn stdin_line() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| input_error(format!("cannot read standard input: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Reads a password from standard input: all of it, less exactly one trailing line ending
/// (`\n` or `\r\n`), so a password with tabs, inner newlines or trailing spaces arrives intact.
pub(crate) fn stdin_password() -> Result<String, Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| input_error(format!("cannot read standard input: {e}")))?;
    let mut text = String::from_utf8(bytes)
        .map_err(|_| input_error("the password on standard input is not valid UTF-8"))?;
    strip_one_line_ending(&mut text);
    Ok(text)
}

/// Removes one trailing `\n` or `\r\n`, and nothing else.
fn strip_one_line_ending(text: &mut String) {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
}

/// Asks a yes/no question on the terminal; only `y` or `Y` is yes (Django's `[y/N]`).
pub(crate) fn confirm(question: &str) -> Result<bool, Error> {
    print!("{question}");
    std::io::stdout().flush().ok();
    Ok(terminal_line()?.eq_ignore_ascii_case("y"))
}

/// Reads one line from the terminal a byte at a time, so that nothing typed ahead (after a
/// password prompt, which reads the terminal byte by byte too) is swallowed by a buffer and lost
/// to the next prompt. Without `/dev/tty`, reads a line of standard input.
fn terminal_line() -> Result<String, Error> {
    use std::io::Read;
    let Ok(mut tty) = std::fs::File::open("/dev/tty") else {
        return stdin_line();
    };
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tty.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => bytes.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(input_error(format!("cannot read the terminal: {e}"))),
        }
    }
    Ok(String::from_utf8_lossy(&bytes)
        .trim_end_matches('\r')
        .to_owned())
}

/// Whether standard input is a terminal (prompts are possible).
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Prompts for a password without echo.
pub(crate) fn prompt_password(prompt: &str) -> Result<String, Error> {
    rpassword::prompt_password(prompt)
        .map_err(|e| input_error(format!("cannot read the password: {e}")))
}

/// Prompts for a line of text.
pub(crate) fn prompt_line(prompt: &str) -> Result<String, Error> {
    use std::io::Write;
    print!("{prompt}");
    std::io::stdout().flush().ok();
    stdin_line()
}

#[cfg(test)]
mod tests {
    use super::strip_one_line_ending;

    #[test]
    fn exactly_one_line_ending_is_stripped() {
        for (given, want) in [
            ("pw\n", "pw"),
            ("pw\r\n", "pw"),
            ("pw\n\n", "pw\n"),
            ("pw\r\n\r\n", "pw\r\n"),
            ("pw\r", "pw\r"),
            ("p\tw \n", "p\tw "),
            ("line1\nline2", "line1\nline2"),
            ("", ""),
            ("\n", ""),
        ] {
            let mut s = given.to_owned();
            strip_one_line_ending(&mut s);
            assert_eq!(s, want, "{given:?}");
        }
    }
}
