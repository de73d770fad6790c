//! The local socket API in process: `info`, unknown commands, 1000 malformed, random and
//! over-long requests on several connections, and graceful shutdown. No pcscd needed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cancuoc::api::{self, Config};
use cancuoc::trust::TrustStore;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

fn socket_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "cancuoc-api-{}-{}.sock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

struct Server {
    path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    fn start() -> Server {
        let path = socket_path();
        let listener = api::bind(&path).expect("binds");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(api::run(
            listener,
            Config::new(TrustStore::new()),
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            path,
            stop: Some(stop),
            task,
        }
    }

    async fn connect(&self) -> Client {
        let stream = UnixStream::connect(&self.path).await.expect("connects");
        let (read, write) = stream.into_split();
        Client {
            read: BufReader::new(read),
            write,
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("run ends after shutdown")
            .expect("run does not panic");
        let _ = std::fs::remove_file(&self.path);
    }
}

struct Client {
    read: BufReader<tokio::net::unix::OwnedReadHalf>,
    write: tokio::net::unix::OwnedWriteHalf,
}

impl Client {
    /// Sends `line` (a newline is added) and reads one answer; `None` on a close.
    async fn ask(&mut self, line: &[u8]) -> Option<Value> {
        let mut data = line.to_vec();
        data.push(b'\n');
        // The server may close before taking all of an over-long line.
        let _ = self.write.write_all(&data).await;
        let mut answer = String::new();
        match tokio::time::timeout(Duration::from_secs(10), self.read.read_line(&mut answer))
            .await
            .expect("an answer or a close within 10 s")
        {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(serde_json::from_str(&answer).expect("answers are JSON")),
        }
    }
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn info_echoes_the_id() {
    let server = Server::start();
    let mut client = server.connect().await;
    let answer = client.ask(br#"{"id": 7, "cmd": "info"}"#).await.unwrap();
    assert_eq!(answer["id"], json!(7));
    assert_eq!(answer["version"], json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(answer["api_level"], json!(1));
    let answer = client
        .ask(br#"{"id": "a-b", "cmd": "info"}"#)
        .await
        .unwrap();
    assert_eq!(answer["id"], json!("a-b"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_and_malformed_requests_are_bad_requests() {
    let server = Server::start();
    let mut client = server.connect().await;
    let answer = client.ask(br#"{"id": 3, "cmd": "launch"}"#).await.unwrap();
    assert_eq!(answer["id"], json!(3));
    assert_eq!(code(&answer), "bad-request");
    for line in [
        &b"not json"[..],
        b"\xff\xfe{}",
        b"[1,2]",
        b"{}",
        br#"{"id": [1], "cmd": "info"}"#,
        b"",
    ] {
        let answer = client.ask(line).await.unwrap();
        assert_eq!(answer["id"], Value::Null);
        assert_eq!(code(&answer), "bad-request");
    }
    // Access data that does not make a key is refused before any reader is touched.
    for line in [
        &br#"{"id": 4, "cmd": "read", "reader": "R", "access": {"can": "12"}}"#[..],
        br#"{"id": 4, "cmd": "read", "reader": "R", "access": {"pin": "1234"}}"#,
        br#"{"id": 4, "cmd": "read", "access": {"can": "123456"}}"#,
        br#"{"id": 4, "cmd": "read", "reader": "R", "access": {"can": "123456"}, "face": "gif"}"#,
        br#"{"id": 4, "cmd": 1}"#,
    ] {
        let answer = client.ask(line).await.unwrap();
        assert_eq!(answer["id"], json!(4));
        assert_eq!(code(&answer), "bad-request", "{answer}");
        assert!(
            !answer.to_string().contains("123456"),
            "no access data echoed"
        );
    }
    // The connection is still usable.
    let answer = client.ask(br#"{"id": 5, "cmd": "info"}"#).await.unwrap();
    assert_eq!(answer["api_level"], json!(1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_over_long_line_is_answered_and_closed() {
    let server = Server::start();
    let mut client = server.connect().await;
    let long = vec![b'a'; api::MAX_LINE + 1];
    if let Some(answer) = client.ask(&long).await {
        assert_eq!(code(&answer), "bad-request");
        let mut rest = String::new();
        assert_eq!(client.read.read_line(&mut rest).await.unwrap_or(0), 0);
    }
    // Exactly the bound is fine (and is not JSON).
    let mut client = server.connect().await;
    let answer = client.ask(&vec![b' '; api::MAX_LINE]).await.unwrap();
    assert_eq!(code(&answer), "bad-request");
    server.stop().await;
}

/// xorshift64*: deterministic noise without a dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

fn malformed(noise: &mut Noise) -> Vec<u8> {
    const TEMPLATES: &[&str] = &[
        r#"{"id": 1, "cmd": "info""#,
        r#"{"id": {}, "cmd": "info"}"#,
        r#"{"id": 1, "cmd": null}"#,
        r#"{"id": 1, "cmd": "read", "reader": 5}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": []}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"mrz": "P<"}}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"qr": "x|y"}}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"id_number": "1", "birth": "900101"}}"#,
        r#"{"id": 1e999, "cmd": "info"}"#,
        r#""\ud800""#,
        "null",
        "1",
    ];
    match noise.below(5) {
        0 => TEMPLATES[noise.below(TEMPLATES.len() as u64)]
            .as_bytes()
            .to_vec(),
        1 => {
            // Deep nesting.
            let depth = 1 + noise.below(5000);
            let mut v = vec![b'['; depth];
            v.extend(std::iter::repeat_n(b']', noise.below(depth as u64 + 1)));
            v
        }
        2 => {
            // A template cut or with a byte flipped.
            let t = TEMPLATES[noise.below(TEMPLATES.len() as u64)].as_bytes();
            let mut v = t[..noise.below(t.len() as u64 + 1)].to_vec();
            if !v.is_empty() {
                let i = noise.below(v.len() as u64);
                v[i] = noise.next() as u8;
            }
            v
        }
        _ => (0..noise.below(300)).map(|_| noise.next() as u8).collect(),
    }
    .into_iter()
    .filter(|&b| b != b'\n')
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_bad_requests_leave_the_server_answering() {
    let server = Server::start();
    let mut tasks = Vec::new();
    for c in 0..5u64 {
        let path = server.path.clone();
        tasks.push(tokio::spawn(async move {
            let connect = || async {
                let stream = UnixStream::connect(&path).await.expect("connects");
                let (read, write) = stream.into_split();
                Client {
                    read: BufReader::new(read),
                    write,
                }
            };
            let mut noise = Noise(0x9E37_79B9_7F4A_7C15 ^ (c + 1));
            let mut client = connect().await;
            let (mut answered, mut closed) = (0, 0);
            for i in 0..200 {
                let oversized = i % 40 == 39;
                let line = if oversized {
                    vec![b'{'; api::MAX_LINE + 1 + noise.below(100_000)]
                } else {
                    malformed(&mut noise)
                };
                match client.ask(&line).await {
                    Some(answer) => {
                        assert!(answer.get("error").is_some(), "{answer}");
                        answered += 1;
                        if oversized {
                            client = connect().await;
                        }
                    }
                    None => {
                        assert!(oversized, "only an over-long line closes");
                        closed += 1;
                        client = connect().await;
                    }
                }
            }
            (answered, closed)
        }));
    }
    let mut total = 0;
    for task in tasks {
        let (answered, closed) = task.await.expect("client task");
        total += answered + closed;
    }
    assert_eq!(total, 1000);
    let mut client = server.connect().await;
    let answer = client.ask(br#"{"id": 1000, "cmd": "info"}"#).await.unwrap();
    assert_eq!(answer["id"], json!(1000));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_ends_run_and_closes_connections() {
    let server = Server::start();
    let mut idle = server.connect().await;
    let answer = idle.ask(br#"{"id": 1, "cmd": "info"}"#).await.unwrap();
    assert_eq!(answer["id"], json!(1));
    let path = server.path.clone();
    server.stop().await;
    let mut rest = String::new();
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read.read_line(&mut rest))
        .await
        .expect("the idle connection is closed");
    assert_eq!(n.unwrap_or(0), 0);
    assert!(
        UnixStream::connect(&path).await.is_err(),
        "no longer listening"
    );
}

#[test]
fn the_serve_command_answers_and_stops_on_sigterm() {
    use std::io::{BufRead, Write};
    use std::os::unix::fs::PermissionsExt;

    let path = socket_path();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["serve", "--socket"])
        .arg(&path)
        .env("CANCUOC_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cancuoc serve starts");
    let started = std::time::Instant::now();
    let stream = loop {
        match std::os::unix::net::UnixStream::connect(&path) {
            Ok(s) => break s,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("no socket: {e}"),
        }
    };
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(b"{\"id\": 9, \"cmd\": \"info\"}\n")
        .unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut answer)
        .unwrap();
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["id"], json!(9));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!path.exists(), "the socket is removed");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("connection opened"), "{log}");
    assert!(log.contains("uid"), "{log}");
}
