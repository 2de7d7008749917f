//! Ctrl-C and SIGTERM (what CI sends on cancel), counted from the moment a command starts, so
//! that a signal during config loading, `--wait-for-ready` or the pre-flight check ends the
//! command as documented (exit 3, reports left saying why) instead of killing it with the
//! default 130/143. The first signal asks the run to stop (no new requests, those in flight
//! finish); the second abandons the requests in flight (what completed is still reported); a
//! third ends the process at once, for a run that is stuck beyond that.
//!
//! The handler only increments an atomic counter (async-signal-safe); everything else polls
//! [`count`], the engine's collector on its 100 ms tick.

use std::sync::atomic::{AtomicU32, Ordering};

static COUNT: AtomicU32 = AtomicU32::new(0);

/// The exit status of a third signal: the shell's convention for death by SIGINT.
const FORCED_EXIT: i32 = 130;

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    if COUNT.fetch_add(1, Ordering::SeqCst) + 1 >= 3 {
        // SAFETY: _exit is async-signal-safe; nothing is left that could be written safely.
        unsafe { libc::_exit(FORCED_EXIT) };
    }
}

/// Count SIGINT and SIGTERM from now on instead of dying of them. Idempotent.
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler touches only an atomic; `sa` is fully initialised before use.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Signals received since [`install`].
pub fn count() -> u32 {
    COUNT.load(Ordering::SeqCst)
}

/// Whether the user has asked the command to stop.
pub fn interrupted() -> bool {
    count() > 0
}
