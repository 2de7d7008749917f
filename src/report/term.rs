//! The one way text reaches the terminal. Every line slagate prints, on stdout or stderr, goes
//! through here, so that a closed pipe (`slagate check … | head -1`, `grep -q`) only stops the
//! printing: Rust's `println!` panics on EPIPE, which would lose every report the run was about
//! to write. A stream that failed once is not written again. Also owns the colour decision
//! (a terminal, and `NO_COLOR` unset or empty).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

fn write(gone: &AtomicBool, stream: &mut dyn Write, bytes: &[u8]) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    // Any error (EPIPE above all, but also a full disk behind a redirect) ends this stream's
    // output; it must never end the run.
    if stream
        .write_all(bytes)
        .and_then(|_| stream.flush())
        .is_err()
    {
        gone.store(true, Ordering::Relaxed);
    }
}

/// Write to stdout as is.
pub fn out(text: impl AsRef<[u8]>) {
    write(&STDOUT_GONE, &mut std::io::stdout().lock(), text.as_ref());
}

/// Write to stderr as is (progress lines, which end in `\r`, need this).
pub fn err(text: impl AsRef<[u8]>) {
    write(&STDERR_GONE, &mut std::io::stderr().lock(), text.as_ref());
}

/// One line on stdout.
pub fn outln(text: impl AsRef<str>) {
    out(format!("{}\n", text.as_ref()));
}

/// One line on stderr.
pub fn errln(text: impl AsRef<str>) {
    err(format!("{}\n", text.as_ref()));
}

/// `slagate: …` on stderr: what slagate is doing, or why it stopped.
pub fn note(text: impl AsRef<str>) {
    errln(format!("slagate: {}", text.as_ref()));
}

/// `slagate: warning: …` on stderr.
pub fn warn(text: impl AsRef<str>) {
    errln(format!("slagate: warning: {}", text.as_ref()));
}

/// A miette diagnostic, rendered as the installed handler renders it, on stderr.
pub fn diagnostic(d: impl miette::Diagnostic + Send + Sync + 'static) {
    errln(format!("{:?}", miette::Report::new(d)));
}

/// A warning diagnostic made of one sentence.
pub fn warning_diagnostic(text: impl Into<String>) {
    diagnostic(miette::MietteDiagnostic::new(text).with_severity(miette::Severity::Warning));
}

/// Whether stdout should get colour: a terminal, and `NO_COLOR` unset or empty.
pub fn color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stdout().is_terminal() && !no_color
}

/// Whether stderr is a terminal (a live progress line) or a log (a line every 10 s).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}
