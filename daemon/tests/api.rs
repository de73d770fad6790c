//! The local socket API in process: `info`, unknown commands, 1000 malformed, random and
//! over-long requests on several connections, graceful shutdown, and reads of in-process
//! simulated cards under client policies and wrong-key throttling. No pcscd needed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod common;

use cancuoc::api::{self, Shared};
use cancuoc::config::Config;
use cancuoc::trust::TrustStore;
use common::noise::{Noise, malformed};
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

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A `[[client]]` rule for this process's user with `fields` (TOML list items).
fn client_rule(fields: &str) -> String {
    let uid = nix::unistd::getuid();
    let fields: Vec<String> = fields.split(',').map(|f| format!("{f:?}")).collect();
    format!(
        "[[client]]\nname = \"tests\"\nusers = [{uid}]\nfields = [{}]\n",
        fields.join(", ")
    )
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on every thread: a connection task that panics is caught by tokio, and
/// the test would not notice otherwise.
fn count_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

struct Server {
    path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    /// A server whose one client rule gives this process's user every field.
    fn start() -> Server {
        Server::with_config(&format!("[readers]\npcsc = false\n{}", client_rule("all")))
    }

    fn with_config(text: &str) -> Server {
        count_panics();
        let config = Config::parse(text).expect("a valid configuration");
        let mut trust = TrustStore::new();
        trust
            .load_path(&fixtures().join("pki/csca.pem"))
            .expect("the fixture CSCA loads");
        let shared = Shared::start(config, trust).expect("the readers start");
        let path = socket_path();
        let listener = api::bind(&path).expect("binds");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(api::run(listener, shared, async move {
            let _ = stopped.await;
        }));
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
        assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
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

impl Client {
    async fn send(&mut self, request: Value) {
        let mut line = request.to_string();
        line.push('\n');
        self.write.write_all(line.as_bytes()).await.expect("sends");
    }

    /// The next line; panics on a close or after 30 s.
    async fn line(&mut self) -> Value {
        let mut text = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), self.read.read_line(&mut text))
            .await
            .expect("a line within 30 s")
            .expect("reads");
        assert!(n > 0, "the connection closed");
        serde_json::from_str(&text).expect("JSON lines")
    }

    /// The answer to `id`, and the events that came before it.
    async fn answer_to(&mut self, id: Value) -> (Value, Vec<Value>) {
        let mut events = Vec::new();
        loop {
            let line = self.line().await;
            if line.get("event").is_some() {
                events.push(line);
            } else if line["id"] == id {
                return (line, events);
            } else {
                panic!("an answer to another request: {line}");
            }
        }
    }

    async fn request(&mut self, request: Value) -> Value {
        let id = request["id"].clone();
        self.send(request).await;
        self.answer_to(id).await.0
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
        br#"{"id": 4, "cmd": "read", "access": {"can": "123456"}, "wait": -1}"#,
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
    let config = path.with_extension("toml");
    std::fs::write(
        &config,
        format!("[readers]\npcsc = false\n{}", client_rule("all")),
    )
    .unwrap();
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["serve", "--check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(check.status.success());
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(
        summary.contains("configuration valid") && summary.contains("client \"tests\""),
        "{summary}"
    );
    std::fs::write(
        path.with_extension("bad.toml"),
        "[server]\nmax_connections = 0\n",
    )
    .unwrap();
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["serve", "--check-config", "--config"])
        .arg(path.with_extension("bad.toml"))
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&check.stderr).contains("max_connections"));
    let _ = std::fs::remove_file(path.with_extension("bad.toml"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--socket")
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
    let _ = std::fs::remove_file(&config);
}

const SIMULATOR: &str =
    "[readers]\npcsc = false\n[[readers.simulator]]\nname = \"Sim\"\nprofile = \"vn-cccd\"\n";

fn id_number() -> String {
    cancuoc::sim::profile::vn_cccd()
        .expect("the vn-cccd profile")
        .printed
        .id_number
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_simulated_card_is_read_with_every_field_and_progress() {
    let server = Server::with_config(&format!("{SIMULATOR}{}", client_rule("all")));
    let mut client = server.connect().await;
    let info = client.request(json!({"id": 1, "cmd": "info"})).await;
    assert_eq!(info["client"], "tests");
    assert_eq!(info["fields"].as_array().unwrap().len(), 16);
    let answer = client.request(json!({"id": 2, "cmd": "subscribe"})).await;
    assert_eq!(answer["readers"][0]["name"], "Sim");
    assert_eq!(answer["readers"][0]["kind"], "simulator");
    assert_eq!(answer["readers"][0]["card_present"], true);
    client
        .send(json!({"id": 3, "cmd": "read", "access": {"id_number": id_number()}, "face": "png"}))
        .await;
    let (answer, events) = client.answer_to(json!(3)).await;
    assert_eq!(answer["reader"], "Sim", "the first card");
    let result = &answer["result"];
    assert_eq!(
        result["verification"]["verdict"], "genuine",
        "{answer:.400}"
    );
    assert_eq!(result["vn"]["id_number"], id_number().as_str());
    assert!(result["vn"]["place_of_residence"].is_string());
    assert_eq!(result["face"]["format"], "png");
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "read-progress" && e["id"] == 3)
        .filter_map(|e| e["step"].as_str())
        .collect();
    assert_eq!(steps.first(), Some(&"access"), "{events:?}");
    assert_eq!(steps.last(), Some(&"done"));
    assert!(steps.contains(&"DG2"));
    // Leaving after a read is the common case: the connection ends cleanly.
    drop(client);
    let mut other = server.connect().await;
    assert_eq!(
        other.request(json!({"id": 4, "cmd": "info"})).await["id"],
        4
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_asking_connection_sees_progress_and_the_verified_name_before_the_face() {
    let server = Server::with_config(&format!("{SIMULATOR}{}", client_rule("full_name,face")));
    // Not subscribed: a read's own events reach the connection that asked for it.
    let mut client = server.connect().await;
    client
        .send(json!({"id": 7, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number()}, "face": "png"}))
        .await;
    let (answer, events) = client.answer_to(json!(7)).await;
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer:.300}"
    );
    let percents: Vec<u64> = events
        .iter()
        .filter(|e| e["event"] == "read-progress" && e["id"] == 7)
        .map(|e| e["percent"].as_u64().expect("a percent"))
        .collect();
    assert!(percents.len() > 5, "{events:?}");
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100));
    let partial_at = events
        .iter()
        .position(|e| e["event"] == "read-partial")
        .expect("a read-partial event");
    let dg2_at = events
        .iter()
        .position(|e| e["event"] == "read-progress" && e["step"] == "DG2")
        .expect("the face is read");
    assert!(partial_at < dg2_at, "{events:?}");
    let partial = &events[partial_at];
    assert_eq!(partial["id"], 7);
    assert_eq!(partial["verdict"], "genuine");
    assert_eq!(
        partial["vn"]["full_name"],
        answer["result"]["vn"]["full_name"]
    );
    // The rule's fields only, as in the answer: no ID number, no document.
    assert!(partial["vn"].get("id_number").is_none(), "{partial}");
    assert!(partial.get("document").is_none(), "{partial}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_name_only_client_gets_the_name_only() {
    // A card with DG11 (the full name, so the name policy reads it) and DG12 (which a
    // name-only read must leave alone).
    let server = Server::with_config(&format!(
        "{}{}",
        SIMULATOR.replace("\"vn-cccd\"", "\"vn-cccd-dg11-dg12\""),
        client_rule("full_name")
    ));
    let mut client = server.connect().await;
    let info = client.request(json!({"id": 1, "cmd": "info"})).await;
    assert_eq!(info["fields"], json!(["full_name"]));
    let answer = client
        .request(
            json!({"id": 2, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number()}}),
        )
        .await;
    let result = answer["result"].as_object().expect("a result");
    let keys: Vec<&str> = result.keys().map(String::as_str).collect();
    assert_eq!(keys, ["holder", "verification", "vn"], "{answer}");
    assert_eq!(
        answer["result"]["vn"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["full_name"]
    );
    assert_eq!(
        answer["result"]["holder"].as_object().unwrap().len(),
        3,
        "full name, surname, given names"
    );
    assert_eq!(answer["result"]["verification"]["verdict"], "genuine");
    // DG2 was not read: passive authentication lists it as not read.
    let dgs = &answer["result"]["verification"]["passive"]["data_groups"];
    assert_eq!(dgs["DG2"], "not-read", "{dgs}");
    // DG12 is on the card and signed, and was not read; DG11 was, for the name.
    assert_eq!(dgs["DG12"], "not-read", "{dgs}");
    assert_eq!(dgs["DG11"], "ok", "{dgs}");
    assert_eq!(
        answer["result"]["holder"]["full_name"], "Đặng Thị Thu Hà",
        "the full name in national characters, from DG11: {answer}"
    );
    for (id, request) in [
        (3, json!({"face": "jpeg"})),
        (4, json!({"fields": ["id_number"]})),
        (5, json!({"raw": true})),
    ] {
        let mut r =
            json!({"id": id, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number()}});
        r.as_object_mut()
            .unwrap()
            .extend(request.as_object().unwrap().clone());
        let answer = client.request(r).await;
        assert_eq!(code(&answer), "forbidden", "{answer}");
    }
    let answer = client
        .request(json!({"id": 6, "cmd": "read", "reader": "Sim", "access": {"can": "123456"}, "fields": ["shoe_size"]}))
        .await;
    assert_eq!(code(&answer), "bad-request");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_user_without_a_rule_is_forbidden_and_let_go() {
    let other = nix::unistd::getuid().as_raw().wrapping_add(1);
    let server = Server::with_config(&format!(
        "{SIMULATOR}[[client]]\nname = \"someone-else\"\nusers = [{other}]\nfields = [\"all\"]\n"
    ));
    let mut client = server.connect().await;
    let answer = client.ask(br#"{"id": 1, "cmd": "info"}"#).await.unwrap();
    assert_eq!(code(&answer), "forbidden");
    assert_eq!(answer["id"], 1);
    assert!(
        client.ask(br#"{"id": 2, "cmd": "info"}"#).await.is_none(),
        "closed"
    );
    // One that says nothing does not keep its slot.
    let mut silent = server.connect().await;
    let started = std::time::Instant::now();
    let mut rest = String::new();
    let n = tokio::time::timeout(Duration::from_secs(8), silent.read.read_line(&mut rest))
        .await
        .expect("closed within the grace time");
    assert_eq!(n.unwrap_or(0), 0);
    assert!(started.elapsed() >= Duration::from_secs(4));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_keys_are_throttled_per_client_and_a_right_key_clears_it() {
    let server = Server::with_config(&format!(
        "{SIMULATOR}[throttle]\nfree_attempts = 2\nfirst_delay_seconds = 0.5\nmax_delay_seconds = 1\n{}",
        client_rule("full_name")
    ));
    let profile = cancuoc::sim::profile::vn_cccd().unwrap();
    let wrong = if profile.printed.can == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut client = server.connect().await;
    for id in 1..=3 {
        let answer = client
            .request(json!({"id": id, "cmd": "read", "reader": "Sim", "access": {"can": wrong}}))
            .await;
        assert_eq!(code(&answer), "wrong-access-key", "attempt {id}: {answer}");
    }
    let answer = client
        .request(json!({"id": 4, "cmd": "read", "reader": "Sim", "access": {"can": wrong}}))
        .await;
    assert_eq!(code(&answer), "throttled", "{answer}");
    let retry = answer["error"]["retry_after_ms"]
        .as_u64()
        .expect("retry_after_ms");
    assert!(retry > 0 && retry <= 500, "{retry}");
    // A new connection of the same user is the same client.
    let mut again = server.connect().await;
    let answer = again
        .request(
            json!({"id": 5, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number()}}),
        )
        .await;
    assert_eq!(code(&answer), "throttled");
    tokio::time::sleep(Duration::from_millis(retry + 50)).await;
    let answer = again
        .request(
            json!({"id": 6, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number()}}),
        )
        .await;
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer}"
    );
    let answer = again
        .request(json!({"id": 7, "cmd": "read", "reader": "Sim", "access": {"can": wrong}}))
        .await;
    assert_eq!(code(&answer), "wrong-access-key", "the count started over");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_waiting_read_is_busy_for_a_second_one_and_cancelled_on_request() {
    let server = Server::start();
    let mut client = server.connect().await;
    let answer = client
        .request(json!({"id": 1, "cmd": "read", "access": {"can": "123456"}}))
        .await;
    assert_eq!(code(&answer), "card-removed", "no card anywhere, no wait");
    client
        .send(json!({"id": 2, "cmd": "read", "access": {"can": "123456"}, "wait": 60}))
        .await;
    let answer = client
        .request(json!({"id": 3, "cmd": "read", "access": {"can": "123456"}}))
        .await;
    assert_eq!(code(&answer), "busy", "one read per connection");
    let answer = client.request(json!({"id": 4, "cmd": "info"})).await;
    assert_eq!(answer["api_level"], 1, "answered while the read waits");
    let answer = client
        .request(json!({"id": 5, "cmd": "cancel", "read": 99}))
        .await;
    assert_eq!(answer["cancelled"], false, "another id");
    client.send(json!({"id": 6, "cmd": "cancel"})).await;
    let mut answers = vec![client.line().await, client.line().await];
    answers.sort_by_key(|a| a["id"].as_u64());
    assert_eq!(answers[0]["id"], 2);
    assert_eq!(code(&answers[0]), "cancelled", "{answers:?}");
    assert_eq!(answers[1]["cancelled"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_cancels_a_waiting_read_and_answers_it() {
    let server = Server::start();
    let mut client = server.connect().await;
    client
        .send(json!({"id": "w", "cmd": "read", "access": {"can": "123456"}, "wait": 60}))
        .await;
    let info = client.request(json!({"id": 1, "cmd": "info"})).await;
    assert_eq!(info["id"], 1);
    server.stop().await;
    let answer = client.line().await;
    assert_eq!(answer["id"], "w");
    assert_eq!(code(&answer), "cancelled");
}

#[test]
fn sighup_reloads_the_rules_and_keeps_a_good_configuration_over_a_bad_one() {
    use common::daemon::{Api, Daemon, client_rule, uid};
    let csca = fixtures().join("pki/csca.pem");
    let daemon = Daemon::start(
        &format!(
            "[readers]\npcsc = false\n{}",
            client_rule("first", uid(), &["full_name"])
        ),
        &csca,
    );
    let mut before = daemon.connect();
    let info = before.request(json!({"cmd": "info"}));
    assert_eq!(info["client"], "first");
    let hup = || {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &daemon.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    let client_of_a_new_connection = |want: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let info = Api::connect(&daemon.socket).request(json!({"cmd": "info"}));
            if info["client"] == want {
                return info;
            }
            assert!(std::time::Instant::now() < deadline, "{info}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::fs::write(
        &daemon.config,
        format!(
            "[server]\nmax_line = 2048\n[trust]\nallow_test_anchors = true\n[readers]\npcsc = false\n{}",
            client_rule("second", uid(), &["all"])
        ),
    )
    .unwrap();
    hup();
    let info = client_of_a_new_connection("second");
    assert_eq!(info["fields"].as_array().unwrap().len(), 16);
    // A connection keeps the rule it was accepted under.
    assert_eq!(before.request(json!({"cmd": "info"}))["client"], "first");
    // The line bound is a [server] setting: it takes a restart.
    let long = format!(
        "{{\"id\": 1, \"cmd\": \"info\", \"pad\": \"{}\"}}",
        "x".repeat(4096)
    );
    let mut api = daemon.connect();
    assert_eq!(api.request(serde_json::from_str(&long).unwrap())["id"], 1);

    std::fs::write(&daemon.config, "[[client]]\nname = \"broken\"\n").unwrap();
    hup();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        Api::connect(&daemon.socket).request(json!({"cmd": "info"}))["client"],
        "second",
        "a configuration that does not load changes nothing"
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("configuration reloaded"), "{log}");
    assert!(log.contains("changes here take a restart"), "{log}");
    assert!(log.contains("reload failed"), "{log}");
}

#[test]
fn the_published_test_anchors_are_refused_unless_allowed() {
    let path = socket_path();
    let config = path.with_extension("anchors.toml");
    let csca = fixtures().join("pki/csca.pem");
    let check = |text: &str, extra: &[&str]| {
        std::fs::write(&config, text).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(["serve", "--check-config", "--config"])
            .arg(&config)
            .arg("--trust")
            .arg(&csca)
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = check("[readers]\npcsc = false\n", &[]);
    assert_eq!(refused.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert!(
        stdout.contains("ERROR: refusing the published TEST trust anchors"),
        "{stdout}"
    );
    let allowed = check(
        "[trust]\nallow_test_anchors = true\n[readers]\npcsc = false\n",
        &[],
    );
    assert!(allowed.status.success());
    assert!(
        String::from_utf8_lossy(&allowed.stdout).contains("WARNING: TEST trust anchors in use")
    );
    let simulated = check("[readers]\npcsc = false\n", &["--simulator", "vn-cccd"]);
    assert!(simulated.status.success());
    // Serving, not only checking, is refused too.
    std::fs::write(&config, "[readers]\npcsc = false\n").unwrap();
    let serve = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--socket")
        .arg(&path)
        .arg("--trust")
        .arg(&csca)
        .output()
        .unwrap();
    assert_eq!(serve.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&serve.stderr).contains("refusing the published TEST"));
    assert!(!path.exists());
    let _ = std::fs::remove_file(&config);
}
