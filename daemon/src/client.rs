//! A synchronous client of the daemon's socket API (docs/api.md), for the command line:
//! one request at a time on a Unix stream socket, newline-delimited JSON, the answer
//! found by its `id` among unasked event lines, every answer bounded in size and time so
//! a daemon gone wrong cannot make the client hang or grow without end.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::api::cmd::Code;
use crate::failure::Failure;

/// Where the daemon listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/cancuoc/api.sock";

/// The environment variable naming the daemon's socket.
pub const SOCKET_ENV: &str = "CANCUOC_SOCKET";

/// The longest answer line accepted: a read with a large face image stays far below.
pub const MAX_ANSWER: usize = 64 * 1024 * 1024;

/// How long sending a request may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket would not take the connection.
    #[error("cannot connect to the daemon at {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// What connect said.
        source: io::Error,
    },
    /// Reading or writing the connection failed.
    #[error("talking to the daemon: {0}")]
    Io(io::Error),
    /// No answer before the deadline.
    #[error("the daemon did not answer within {0:?}")]
    Timeout(Duration),
    /// The daemon closed the connection without answering.
    #[error("the daemon closed the connection without answering")]
    Closed,
    /// An answer line longer than the bound.
    #[error("an answer line from the daemon is longer than {0} bytes")]
    TooLong(usize),
    /// A line that is not the protocol's.
    #[error("the daemon's answer is not valid: {0}")]
    Protocol(String),
    /// The daemon answered with an error.
    #[error("{message} [{code}]")]
    Daemon {
        /// The API's error code (`wrong-access-key`, `busy`, …).
        code: String,
        /// For people; the daemon never puts personal data in it.
        message: String,
    },
}

impl ClientError {
    /// Its failure class: a daemon that cannot be reached, stops answering or closes
    /// the connection is the transport; an answer that is not the protocol's is
    /// internal; the daemon's own error is the class of its code.
    pub fn failure(&self) -> Failure {
        match self {
            ClientError::Connect { source, .. }
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                Failure::Forbidden
            }
            ClientError::Connect { .. }
            | ClientError::Io(_)
            | ClientError::Timeout(_)
            | ClientError::Closed => Failure::Transport,
            ClientError::TooLong(_) | ClientError::Protocol(_) => Failure::Internal,
            ClientError::Daemon { code, .. } => Code::failure_of(code),
        }
    }
}

/// Whether `path` is a Unix socket (following symbolic links).
pub fn is_socket(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// The daemon's socket, if the command line should use the daemon: `explicit`
/// (`--socket`) must be a socket, else it is an error; otherwise `$CANCUOC_SOCKET` or
/// [`DEFAULT_SOCKET`] when a socket is there, and `None` (read directly) when not.
pub fn find_socket(explicit: Option<&Path>) -> Result<Option<PathBuf>, String> {
    if let Some(path) = explicit {
        return if is_socket(path) {
            Ok(Some(path.to_owned()))
        } else if path.exists() {
            Err(format!("{} is not a socket", path.display()))
        } else {
            Err(format!(
                "{}: no such socket (is `cancuoc serve` running?)",
                path.display()
            ))
        };
    }
    let path = match std::env::var_os(SOCKET_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_SOCKET),
    };
    Ok(is_socket(&path).then_some(path))
}

/// A connection to the daemon.
#[derive(Debug)]
pub struct Client {
    stream: BufReader<UnixStream>,
    next_id: u64,
    max_answer: usize,
}

impl Client {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_owned(),
            source,
        })?;
        stream
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(ClientError::Io)?;
        Ok(Client {
            stream: BufReader::with_capacity(64 * 1024, stream),
            next_id: 1,
            max_answer: MAX_ANSWER,
        })
    }

    /// Sets the longest answer line accepted.
    pub fn with_max_answer(mut self, bytes: usize) -> Client {
        self.max_answer = bytes;
        self
    }

    /// Sends `{"id", "cmd", …params}` and returns the fields of its answer (without the
    /// `id`), waiting at most `timeout`. Lines that are not this request's answer (events,
    /// answers to other ids) are skipped; an error answer is [`ClientError::Daemon`].
    pub fn request(
        &mut self,
        cmd: &str,
        params: Map<String, Value>,
        timeout: Duration,
    ) -> Result<Map<String, Value>, ClientError> {
        self.request_with_events(cmd, params, timeout, &mut |_| {})
    }

    /// [`Client::request`], handing each event line that arrives meanwhile to `on_event`
    /// (a read's `read-progress`, for one).
    pub fn request_with_events(
        &mut self,
        cmd: &str,
        params: Map<String, Value>,
        timeout: Duration,
        on_event: &mut dyn FnMut(&Map<String, Value>),
    ) -> Result<Map<String, Value>, ClientError> {
        let deadline = Instant::now() + timeout;
        let id = self.next_id;
        self.next_id += 1;
        let mut request = Map::new();
        request.insert("id".into(), Value::from(id));
        request.insert("cmd".into(), Value::from(cmd));
        request.extend(params);
        let mut line =
            serde_json::to_vec(&request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        drop(request);
        line.push(b'\n');
        let sent = self.stream.get_mut().write_all(&line);
        // The request may carry an access key.
        line.zeroize();
        sent.map_err(ClientError::Io)?;
        loop {
            let line = self.read_line(deadline, timeout)?;
            let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(&line) else {
                return Err(ClientError::Protocol("a line is not a JSON object".into()));
            };
            if answer.contains_key("event") {
                on_event(&answer);
                continue;
            }
            let ours = match answer.get("id") {
                Some(Value::Number(n)) => n.as_u64() == Some(id),
                // The daemon could not read the request's id: the error is this one's.
                Some(Value::Null) | None => answer.contains_key("error"),
                Some(_) => false,
            };
            if !ours {
                continue;
            }
            if let Some(error) = answer.get("error") {
                let text = |key: &str| {
                    error
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                return Err(ClientError::Daemon {
                    code: text("code"),
                    message: text("message"),
                });
            }
            answer.remove("id");
            return Ok(answer);
        }
    }

    /// The next line, without its newline, read by `deadline`; never more than
    /// `max_answer` bytes of it held.
    fn read_line(&mut self, deadline: Instant, timeout: Duration) -> Result<Vec<u8>, ClientError> {
        let mut line = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::Timeout(timeout));
            }
            self.stream
                .get_ref()
                .set_read_timeout(Some(left))
                .map_err(ClientError::Io)?;
            let buf = match self.stream.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(ClientError::Timeout(timeout));
                }
                Err(e) => return Err(ClientError::Io(e)),
            };
            if buf.is_empty() {
                return Err(ClientError::Closed);
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            if line.len().saturating_add(take) > self.max_answer {
                return Err(ClientError::TooLong(self.max_answer));
            }
            line.extend_from_slice(buf.get(..take).unwrap_or_default());
            self.stream.consume(if done { take + 1 } else { take });
            if done {
                return Ok(line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixListener;

    /// A daemon stand-in: takes one connection, reads one request line, hands it to
    /// `script`, which writes what the test wants.
    fn fake_daemon(
        name: &str,
        script: impl FnOnce(Value, &mut UnixStream) + Send + 'static,
    ) -> (PathBuf, std::thread::JoinHandle<()>) {
        let path =
            std::env::temp_dir().join(format!("cancuoc-client-{name}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            script(serde_json::from_str(&line).unwrap(), &mut stream);
            // Wait for the client to hang up.
            let _ = stream.read(&mut [0u8; 1]);
        });
        (path, thread)
    }

    #[test]
    fn events_and_other_answers_are_skipped_and_lines_may_come_in_pieces() {
        let (path, daemon) = fake_daemon("skip", |request, stream| {
            assert_eq!(request["cmd"], "read");
            assert_eq!(request["access"]["can"], "123456");
            let id = request["id"].clone();
            stream
                .write_all(b"{\"event\":\"card-inserted\",\"reader\":\"R\"}\n")
                .unwrap();
            stream.write_all(b"{\"id\":999,\"readers\":[]}\n").unwrap();
            // A large answer, written in small pieces.
            let face = "A".repeat(300_000);
            let answer = serde_json::json!({"id": id, "result": {"face": {"data": face}}});
            let text = format!("{answer}\n");
            for piece in text.as_bytes().chunks(7_001) {
                stream.write_all(piece).unwrap();
            }
        });
        let mut client = Client::connect(&path).unwrap();
        let mut params = Map::new();
        params.insert("access".into(), serde_json::json!({"can": "123456"}));
        let answer = client
            .request("read", params, Duration::from_secs(10))
            .unwrap();
        assert_eq!(
            answer["result"]["face"]["data"].as_str().map(str::len),
            Some(300_000)
        );
        assert!(!answer.contains_key("id"));
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn error_answers_carry_code_and_message() {
        let (path, daemon) = fake_daemon("error", |request, stream| {
            let answer = serde_json::json!({"id": request["id"], "error": {"code": "wrong-access-key", "message": "wrong CAN or MRZ"}});
            stream.write_all(format!("{answer}\n").as_bytes()).unwrap();
        });
        let mut client = Client::connect(&path).unwrap();
        match client.request("read", Map::new(), Duration::from_secs(10)) {
            Err(ClientError::Daemon { code, message }) => {
                assert_eq!(code, "wrong-access-key");
                assert_eq!(message, "wrong CAN or MRZ");
            }
            other => panic!("{other:?}"),
        }
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn too_long_silent_and_closing_daemons_fail_cleanly() {
        let (path, daemon) = fake_daemon("long", |_, stream| {
            let _ = stream.write_all(&[b'x'; 5000]);
        });
        let mut client = Client::connect(&path).unwrap().with_max_answer(1000);
        assert!(matches!(
            client.request("info", Map::new(), Duration::from_secs(10)),
            Err(ClientError::TooLong(1000))
        ));
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);

        let (path, daemon) = fake_daemon("silent", |_, _| {});
        let mut client = Client::connect(&path).unwrap();
        assert!(matches!(
            client.request("info", Map::new(), Duration::from_millis(200)),
            Err(ClientError::Timeout(_))
        ));
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);

        let (path, daemon) = fake_daemon("close", |_, stream| {
            let _ = stream.write_all(b"{\"id\":1");
            let _ = stream.shutdown(std::net::Shutdown::Write);
        });
        let mut client = Client::connect(&path).unwrap();
        assert!(matches!(
            client.request("info", Map::new(), Duration::from_secs(10)),
            Err(ClientError::Closed)
        ));
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);

        let (path, daemon) = fake_daemon("garbage", |_, stream| {
            let _ = stream.write_all(b"not json\n");
        });
        let mut client = Client::connect(&path).unwrap();
        assert!(matches!(
            client.request("info", Map::new(), Duration::from_secs(10)),
            Err(ClientError::Protocol(_))
        ));
        drop(client);
        daemon.join().unwrap();
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn only_an_explicit_socket_must_exist() {
        let dir = std::env::temp_dir().join(format!("cancuoc-find-socket-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.sock");
        assert!(find_socket(Some(&missing)).is_err());
        let file = dir.join("plain-file");
        std::fs::write(&file, b"").unwrap();
        assert!(
            find_socket(Some(&file))
                .unwrap_err()
                .contains("not a socket")
        );
        let socket = dir.join("api.sock");
        let _listener = UnixListener::bind(&socket).unwrap();
        assert_eq!(find_socket(Some(&socket)), Ok(Some(socket.clone())));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
