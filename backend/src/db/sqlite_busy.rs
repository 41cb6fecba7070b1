//! How a SQLite connection waits for another one's write lock.
//!
//! SQLite's own busy handler (what `busy_timeout` installs) sleeps 1, 2, 5, 10, 15, 20 and then
//! 25 to 100 ms between tries. Berth's write transactions hold the lock for about a
//! millisecond, so a writer that lost the race several times slept for tens of milliseconds
//! after the lock was free: under eight concurrent tag pushes the slowest 1% took over 100 ms.
//! This handler tries again every [`SHORT`] for the first [`SHORT_TRIES`] tries, then every
//! [`LONG`], and gives up after [`TIMEOUT`] in all, as the built-in one would.
//!
//! sqlx runs each SQLite connection on a thread of its own, so the sleep holds only that
//! connection, never a runtime thread.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnection;

/// How long a connection waits for a lock before its statement fails with `SQLITE_BUSY`.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const SHORT: Duration = Duration::from_micros(100);
const SHORT_TRIES: u32 = 100;
const LONG: Duration = Duration::from_millis(1);

/// The wait before try `tries + 1`, or `None` once [`TIMEOUT`] has been spent waiting.
fn delay(tries: u32) -> Option<Duration> {
    let short = tries.min(SHORT_TRIES);
    let waited = SHORT * short + LONG * (tries - short);
    if waited >= TIMEOUT {
        None
    } else if tries < SHORT_TRIES {
        Some(SHORT)
    } else {
        Some(LONG)
    }
}

extern "C" fn wait(_: *mut c_void, tries: c_int) -> c_int {
    match delay(u32::try_from(tries).unwrap_or(u32::MAX)) {
        Some(pause) => {
            std::thread::sleep(pause);
            1
        }
        None => 0,
    }
}

/// Installs the handler on a newly opened connection, replacing the one `busy_timeout` set.
///
/// # Errors
/// The connection's worker thread is gone, or SQLite refused the handler.
#[expect(
    unsafe_code,
    reason = "sqlx has no safe wrapper for sqlite3_busy_handler"
)]
pub async fn install(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is an open connection, held exclusively by `handle` for this call; `wait`
    // has the signature SQLite expects, never unwinds and ignores its null user-data pointer.
    let rc = unsafe { libsqlite3_sys::sqlite3_busy_handler(db, Some(wait), std::ptr::null_mut()) };
    if rc == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sea_orm::sqlx::Error::Protocol(format!(
            "installing the SQLite busy handler failed (code {rc})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_short_then_long_and_gives_up_after_the_timeout() {
        assert_eq!(delay(0), Some(SHORT));
        assert_eq!(delay(SHORT_TRIES - 1), Some(SHORT));
        assert_eq!(delay(SHORT_TRIES), Some(LONG));
        let mut waited = Duration::ZERO;
        let mut tries = 0;
        while let Some(pause) = delay(tries) {
            waited += pause;
            tries += 1;
        }
        assert!(waited >= TIMEOUT, "gave up after {waited:?}");
        assert!(waited < TIMEOUT + LONG, "waited {waited:?}");
    }
}
