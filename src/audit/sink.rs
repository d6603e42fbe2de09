//! Where audit lines go: an append-only file, or the local syslog socket.
//!
//! The file is opened `O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_CLOEXEC`, mode 0600 when it is
//! created, and each line is written with one `write(2)`. On Linux a write to a regular file
//! opened with `O_APPEND` takes the end-of-file offset and copies the whole buffer under the
//! inode's lock (local file systems: ext4, xfs, btrfs, tmpfs), so lines of concurrent writers
//! never interleave, whatever their length; a short write (disk full) is reported as a
//! failure. NFS gives no such guarantee: use syslog there.
//!
//! A log file that is not a regular file, is writable by everyone, or belongs to another user
//! (other than root) is refused: anyone who can rewrite it can forge or erase history, and an
//! audit trail that might be forged is worse than none. A symbolic link as the last path
//! component is refused (`O_NOFOLLOW`), so a link planted in a shared directory cannot send
//! entries elsewhere.

use super::Outcome;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

/// The default syslog socket (journald listens there too).
const DEV_LOG: &str = "/dev/log";

/// An opened audit target.
pub enum Sink {
    File(std::fs::File),
    /// A datagram socket and the address of the syslog daemon.
    Syslog(UnixDatagram, PathBuf),
}

impl Sink {
    /// `syslog` (the local socket `/dev/log`), `syslog:SOCKET`, or a file path.
    pub fn open(target: &str) -> io::Result<Sink> {
        if target == "syslog" {
            return Sink::syslog(DEV_LOG.into());
        }
        if let Some(sock) = target.strip_prefix("syslog:") {
            return Sink::syslog(sock.into());
        }
        Sink::file(target)
    }

    fn syslog(addr: PathBuf) -> io::Result<Sink> {
        let s = UnixDatagram::unbound()?;
        // Connecting now tells at once whether a daemon listens there.
        s.connect(&addr)?;
        Ok(Sink::Syslog(s, addr))
    }

    fn file(path: &str) -> io::Result<Sink> {
        let f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(
                // NONBLOCK: opening a FIFO planted at the path must not hang the command (it
                // fails, or opens and is refused below); regular files ignore the flag.
                (rustix::fs::OFlags::NOFOLLOW
                    | rustix::fs::OFlags::CLOEXEC
                    | rustix::fs::OFlags::NONBLOCK)
                    .bits() as i32,
            )
            .open(path)
            .map_err(|e| {
                // ELOOP is how O_NOFOLLOW reports a symbolic link.
                if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                    io::Error::other("is a symbolic link (refused)")
                } else {
                    e
                }
            })?;
        let m = f.metadata()?;
        if !m.file_type().is_file() {
            return Err(io::Error::other("is not a regular file (refused)"));
        }
        if m.mode() & 0o002 != 0 {
            return Err(io::Error::other(
                "is writable by everyone, so entries could be forged (refused)",
            ));
        }
        let me = rustix::process::geteuid().as_raw();
        if m.uid() != me && m.uid() != 0 {
            return Err(io::Error::other(format!(
                "belongs to uid {}, not to you or root (refused)",
                m.uid()
            )));
        }
        Ok(Sink::File(f))
    }

    /// Write one line (ending in `\n`) with a single system call.
    pub fn write_line(&self, line: &[u8], outcome: Outcome) -> io::Result<()> {
        match self {
            Sink::File(f) => {
                // One write(2), never a loop: a partial line must not be completed by a second
                // call that could land after another process's line.
                let n = (&*f).write(line)?;
                if n != line.len() {
                    return Err(io::Error::other(format!(
                        "short write ({n} of {} bytes)",
                        line.len()
                    )));
                }
                Ok(())
            }
            Sink::Syslog(s, addr) => {
                let msg = syslog_message(line, outcome);
                let n = s.send(&msg).or_else(|_| s.send_to(&msg, addr))?;
                if n != msg.len() {
                    return Err(io::Error::other("short send to syslog"));
                }
                Ok(())
            }
        }
    }
}

/// A syslog datagram as glibc's `syslog(3)` sends it to the local socket (RFC 3164 without the
/// host name): `<PRI>Mmm dd hh:mm:ss veil[PID]: MESSAGE`. Facility authpriv (10), whose files
/// are readable by root only on most systems; severity info for success, notice for failures.
/// The time is UTC (journald and rsyslog stamp their own reception time anyway).
pub fn syslog_message(line: &[u8], outcome: Outcome) -> Vec<u8> {
    let severity = match outcome {
        Outcome::Ok => 6,
        Outcome::Error(_) => 5,
    };
    let pri = 10 * 8 + severity;
    let f = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second]"
    );
    let ts = time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default();
    let mut msg = format!("<{pri}>{ts} veil[{}]: ", std::process::id()).into_bytes();
    msg.extend_from_slice(line.strip_suffix(b"\n").unwrap_or(line));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_at_the_log_path_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("audit.log");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Without O_NONBLOCK the open blocks until a reader appears, i.e. forever.
        assert!(Sink::file(fifo.to_str().unwrap()).is_err());
    }

    #[test]
    fn a_syslog_message_has_the_authpriv_priority_and_no_newline() {
        let m = syslog_message(b"{\"v\":1}\n", Outcome::Ok);
        let s = String::from_utf8(m).unwrap();
        assert!(s.starts_with("<86>"), "{s}");
        assert!(s.ends_with("]: {\"v\":1}"), "{s}");
        let m = syslog_message(b"{}\n", Outcome::Error(128));
        assert!(m.starts_with(b"<85>"));
    }
}
