//! systemd integration without libsystemd: socket activation, so that `cancuoc.socket`
//! can own the API socket and start the daemon on demand, and readiness notification,
//! so that a `Type=notify` service counts as started only once it serves. Both speak the
//! documented wire protocols of sd_listen_fds(3) and sd_notify(3) directly.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use socket2::{Domain, Socket, Type};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`); the ABI fixes it at 3.
pub const LISTEN_FDS_START: RawFd = 3;

/// Set once the passed descriptor has been taken, so that it has exactly one owner.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The listening socket systemd passed to this process, when it was started by socket
/// activation, so the daemon serves the socket `cancuoc.socket` created instead of
/// binding its own.
///
/// `Ok(None)` when nothing was passed to this process (no `LISTEN_PID`, or one naming
/// another process, or `LISTEN_FDS=0`), and on every call after the first that returned
/// a listener: the descriptor is handed out once. When several descriptors were passed,
/// the first is used and a warning logged. An error means something was passed but is
/// not a listening Unix stream socket.
///
/// The returned listener is close-on-exec and still in blocking mode: call
/// `set_nonblocking(true)` before handing it to tokio.
///
/// `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` stay in the environment: removing
/// them is not thread-safe (`std::env::remove_var` is `unsafe`), and they are harmless
/// left in place, since a child process has another pid and the descriptor is not
/// inherited.
pub fn listener_from_env() -> io::Result<Option<UnixListener>> {
    let count = passed_fds(
        std::env::var_os("LISTEN_PID").as_deref(),
        std::env::var_os("LISTEN_FDS").as_deref(),
        std::process::id(),
    )?;
    if count == 0 {
        return Ok(None);
    }
    if TAKEN.swap(true, Ordering::SeqCst) {
        return Ok(None);
    }
    if count > 1 {
        tracing::warn!(
            count,
            "systemd: several sockets passed; serving the first only"
        );
    }
    ensure_open_socket(LISTEN_FDS_START)?;
    let socket = Socket::from(take_passed_fd(LISTEN_FDS_START));
    check_listener(&socket)?;
    socket.set_cloexec(true)?;
    Ok(Some(UnixListener::from(OwnedFd::from(socket))))
}

/// How many descriptors systemd passed to the process `our_pid`, from the values of
/// `LISTEN_PID` and `LISTEN_FDS`: 0 when they are absent or meant for another process.
fn passed_fds(
    listen_pid: Option<&OsStr>,
    listen_fds: Option<&OsStr>,
    our_pid: u32,
) -> io::Result<usize> {
    let Some(pid) = listen_pid.and_then(|p| p.to_str()?.parse::<u32>().ok()) else {
        return Ok(0);
    };
    if pid != our_pid {
        return Ok(0);
    }
    let Some(fds) = listen_fds else {
        return Ok(0);
    };
    fds.to_str()
        .and_then(|f| f.parse::<usize>().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "LISTEN_FDS is not a number"))
}

/// Refuses `fd` when /proc shows it is not open or not a socket, so that an environment
/// claiming descriptors that are not there never leads to owning a closed descriptor.
/// Without /proc the systemd ABI's promise is all there is to go on.
fn ensure_open_socket(fd: RawFd) -> io::Result<()> {
    match std::fs::read_link(format!("/proc/self/fd/{fd}")) {
        Ok(target) if target.as_os_str().as_bytes().starts_with(b"socket:") => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor {fd} passed by systemd is not a socket"),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound && Path::new("/proc/self/fd").is_dir() => {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("descriptor {fd} passed by systemd is not open"),
            ))
        }
        Err(_) => Ok(()),
    }
}

/// Takes ownership of a descriptor systemd passed.
#[allow(unsafe_code)]
fn take_passed_fd(fd: RawFd) -> OwnedFd {
    // SAFETY: the systemd fd-passing ABI (sd_listen_fds(3)): when LISTEN_PID is this
    // process's pid and LISTEN_FDS is n >= 1, descriptors 3 .. 3+n are open at exec and
    // handed to this process to own. `listener_from_env` checked both variables and,
    // where /proc exists, that the descriptor is an open socket; `TAKEN` lets this run
    // at most once per process, so the `OwnedFd` is the descriptor's only owner.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Accepts only what the daemon can serve: a listening Unix stream socket.
fn check_listener(socket: &Socket) -> io::Result<()> {
    let wrong = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("socket passed by systemd is {what}; expected a listening Unix stream socket"),
        )
    };
    if socket.domain()? != Domain::UNIX {
        return Err(wrong("not a Unix socket"));
    }
    if socket.r#type()? != Type::STREAM {
        return Err(wrong("not a stream socket"));
    }
    if !socket.is_listener()? {
        return Err(wrong("not listening"));
    }
    Ok(())
}

/// Sends `state` (sd_notify(3) assignments, one per line) to the service manager, so
/// that systemd learns of readiness, shutdown and status. `Ok(false)` when the process
/// was not started by one (`NOTIFY_SOCKET` unset or empty).
pub fn notify(state: &str) -> io::Result<bool> {
    notify_to(std::env::var_os("NOTIFY_SOCKET").as_deref(), state)
}

/// Tells systemd the daemon serves: a `Type=notify` start completes.
pub fn notify_ready() -> io::Result<bool> {
    notify("READY=1")
}

/// Tells systemd the daemon is shutting down, so that the stop is not taken for a crash.
pub fn notify_stopping() -> io::Result<bool> {
    notify("STOPPING=1")
}

/// Shows `text` as the service's status in `systemctl status`. It must never carry
/// personal data; line breaks become spaces so that it cannot smuggle in assignments.
pub fn notify_status(text: &str) -> io::Result<bool> {
    notify(&status_message(text))
}

fn status_message(text: &str) -> String {
    format!("STATUS={}", text.replace(['\n', '\r'], " "))
}

/// Sends `state` to the notification socket `socket` (a path, or an abstract name when it
/// starts with '@').
fn notify_to(socket: Option<&OsStr>, state: &str) -> io::Result<bool> {
    let Some(socket) = socket.filter(|s| !s.is_empty()) else {
        return Ok(false);
    };
    let datagram = UnixDatagram::unbound()?;
    let bytes = socket.as_bytes();
    let sent = match bytes.first() {
        Some(b'/') => datagram.send_to(state.as_bytes(), Path::new(socket))?,
        Some(b'@') => send_abstract(&datagram, &bytes[1..], state.as_bytes())?,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "NOTIFY_SOCKET is neither an absolute path nor an abstract name",
            ));
        }
    };
    if sent != state.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "notification sent in part",
        ));
    }
    Ok(true)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn send_abstract(datagram: &UnixDatagram, name: &[u8], data: &[u8]) -> io::Result<usize> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    datagram.send_to_addr(data, &address)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn send_abstract(_: &UnixDatagram, _: &[u8], _: &[u8]) -> io::Result<usize> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract NOTIFY_SOCKET names exist on Linux only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::os::fd::AsRawFd;
    use std::os::linux::net::SocketAddrExt;
    use std::path::PathBuf;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    fn unique(stem: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        format!(
            "cancuoc-{stem}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn receive(socket: &UnixDatagram) -> String {
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("sets a timeout");
        let mut buffer = [0u8; 512];
        let n = socket.recv(&mut buffer).expect("a notification arrives");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    struct TempSocket(PathBuf);

    impl Drop for TempSocket {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn notify_reaches_a_path_socket() {
        let path = TempSocket(std::env::temp_dir().join(unique("notify") + ".sock"));
        let server = UnixDatagram::bind(&path.0).expect("binds");
        let sent = notify_to(Some(path.0.as_os_str()), "READY=1").expect("sends");
        assert!(sent);
        assert_eq!(receive(&server), "READY=1");
    }

    #[test]
    fn notify_reaches_an_abstract_socket() {
        let name = unique("notify-abstract");
        let address =
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
        let server = UnixDatagram::bind_addr(&address).expect("binds");
        let target = OsString::from(format!("@{name}"));
        let sent = notify_to(Some(&target), "STOPPING=1").expect("sends");
        assert!(sent);
        assert_eq!(receive(&server), "STOPPING=1");
    }

    #[test]
    fn notify_without_a_socket_is_a_no_op() {
        assert!(!notify_to(None, "READY=1").expect("no error"));
        assert!(!notify_to(Some(OsStr::new("")), "READY=1").expect("no error"));
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            assert!(!notify_ready().expect("no error"));
        }
    }

    #[test]
    fn notify_refuses_a_relative_path() {
        assert!(notify_to(Some(OsStr::new("run/notify")), "READY=1").is_err());
    }

    #[test]
    fn notify_to_a_missing_socket_fails() {
        let path = std::env::temp_dir().join(unique("absent") + ".sock");
        assert!(notify_to(Some(path.as_os_str()), "READY=1").is_err());
    }

    #[test]
    fn status_cannot_add_assignments() {
        assert_eq!(
            status_message("reading\nREADY=1\r"),
            "STATUS=reading READY=1 "
        );
    }

    #[test]
    fn passed_fds_only_for_this_process() {
        let pid = |s: &str| Some(OsString::from(s));
        let count =
            |p: Option<OsString>, f: Option<OsString>| passed_fds(p.as_deref(), f.as_deref(), 42);
        assert_eq!(count(pid("42"), pid("1")).expect("ok"), 1);
        assert_eq!(count(pid("42"), pid("3")).expect("ok"), 3);
        assert_eq!(count(pid("42"), pid("0")).expect("ok"), 0);
        assert_eq!(count(pid("43"), pid("1")).expect("ok"), 0);
        assert_eq!(count(None, pid("1")).expect("ok"), 0);
        assert_eq!(count(pid("x"), pid("1")).expect("ok"), 0);
        assert_eq!(count(pid("42"), None).expect("ok"), 0);
        assert!(count(pid("42"), pid("many")).is_err());
        assert!(count(pid("42"), pid("-1")).is_err());
    }

    #[test]
    fn check_listener_wants_a_listening_unix_stream_socket() {
        let path = TempSocket(std::env::temp_dir().join(unique("listen") + ".sock"));
        let listener = UnixListener::bind(&path.0).expect("binds");
        assert!(check_listener(&Socket::from(OwnedFd::from(listener))).is_ok());

        let unbound = Socket::new(Domain::UNIX, Type::STREAM, None).expect("socket");
        assert!(check_listener(&unbound).is_err());
        let datagram = Socket::new(Domain::UNIX, Type::DGRAM, None).expect("socket");
        assert!(check_listener(&datagram).is_err());
        let tcp = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        tcp.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("binds");
        tcp.listen(1).expect("listens");
        assert!(check_listener(&tcp).is_err());
    }

    #[test]
    fn ensure_open_socket_refuses_what_is_not_a_socket() {
        if let Ok(file) = std::fs::File::open("/proc/self/exe") {
            assert!(ensure_open_socket(file.as_raw_fd()).is_err());
        }
        let socket = UnixDatagram::unbound().expect("socket");
        assert!(ensure_open_socket(socket.as_raw_fd()).is_ok());
    }
}
