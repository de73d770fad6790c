//! The browser endpoint of `cancuoc serve`: the configuration's loopback rule, the
//! Origin allowlist and tokens, the socket API over WebSocket frames with progress and
//! the verified partial identity, abuse by 10 000 bad inputs, and the operator page in
//! a real headless Chromium (genuine and forged cards, a page of a foreign origin).

mod common;

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{Daemon, client_rule, temp_path, uid};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const TOKEN: &str = "kiosk-token-0123456789";

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The profile's start data: access and CSCA.
fn profile(name: &str) -> (Value, PathBuf) {
    let p = cancuoc::sim::profile::load(name, &Default::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (
        json!({"id_number": p.printed.id_number}),
        p.csca.expect("the profile names its CSCA"),
    )
}

/// A daemon with a simulated card of `profile`, the web endpoint on `port` (and
/// `more_ports`), and `rules` (TOML) for browsers.
fn start(profile_name: &str, port: u16, more_ports: &[u16], rules: &str) -> Daemon {
    let (_, csca) = profile(profile_name);
    let mut listen = vec![format!("\"127.0.0.1:{port}\"")];
    listen.extend(more_ports.iter().map(|p| format!("\"127.0.0.1:{p}\"")));
    let config = format!(
        "[readers]\npcsc = false\n{}[web]\nlisten = [{}]\noperator_page = true\nmax_connections = 256\n{rules}",
        client_rule("t", uid(), &["all"]),
        listen.join(", ")
    );
    let daemon = Daemon::start_with(&config, &csca, &["--simulator", profile_name]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the web listener never came up");
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon
}

fn rule(name: &str, origin: &str, fields: &str, token: Option<&str>) -> String {
    let fields: Vec<String> = fields.split(',').map(|f| format!("{f:?}")).collect();
    let mut r = format!(
        "[[web_client]]\nname = {name:?}\norigins = [{origin:?}]\nfields = [{}]\n",
        fields.join(", ")
    );
    if let Some(t) = token {
        r.push_str(&format!("token = {t:?}\n"));
    }
    r
}

async fn ws_connect(
    port: u16,
    origin: Option<&str>,
    protocols: Option<&str>,
) -> Result<Ws, WsError> {
    let mut request = format!("ws://127.0.0.1:{port}/api")
        .into_client_request()
        .unwrap();
    if let Some(o) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(o).unwrap());
    }
    if let Some(p) = protocols {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", HeaderValue::from_str(p).unwrap());
    }
    tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(request),
    )
    .await
    .expect("the handshake ends")
    .map(|(ws, _)| ws)
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next JSON message; `None` at a close or the end.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a message within 30 s")?;
        match m {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            _ => return None,
        }
    }
}

/// Messages up to the answer to `id`: (answer, events before it).
async fn answer(ws: &mut Ws, id: &Value) -> (Value, Vec<Value>) {
    let mut events = Vec::new();
    loop {
        let m = next(ws).await.expect("an answer");
        if m.get("event").is_none() && &m["id"] == id {
            return (m, events);
        }
        events.push(m);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn check_config_refuses_a_listener_off_loopback() {
    for (listen, ok) in [
        ("0.0.0.0:8470", false),
        ("[::]:8470", false),
        ("10.0.0.1:80", false),
        ("[::1]:8470", true),
    ] {
        let path = temp_path("web-check", "toml");
        std::fs::write(
            &path,
            format!("[readers]\npcsc = false\n[web]\nlisten = [\"{listen}\"]\n"),
        )
        .unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(["serve", "--check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.success(), ok, "{listen}: {stderr}");
        if !ok {
            assert!(stderr.contains("web.listen"), "{stderr}");
        }
    }
}

#[test]
fn the_websocket_carries_the_api_with_progress_and_a_verified_partial_identity() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let rules = format!(
        "{}{}",
        rule(
            "kiosk",
            "http://kiosk.localhost",
            "full_name,id_number,face",
            Some(TOKEN)
        ),
        rule("page", &origin, "full_name", None)
    );
    let daemon = start("vn-cccd", port, &[], &rules);
    let (access, _) = profile("vn-cccd");
    // The Unix socket's answer is the reference; its progress comes without subscribe.
    let mut unix = daemon.connect();
    let reference = unix.request(json!({"cmd": "read", "access": access, "face": "jpeg"}));
    let name = reference["result"]["vn"]["full_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let rt = runtime();
    rt.block_on(async {
        // No Origin, or one no rule names: 403 before the upgrade.
        for o in [None, Some("http://evil.example"), Some("null")] {
            match ws_connect(port, o, None).await {
                Err(WsError::Http(r)) => assert_eq!(r.status(), 403, "{o:?}"),
                other => panic!("{o:?}: {:?}", other.map(|_| ())),
            }
        }
        // A wrong token is closed with a reason; the right one, by subprotocol or first
        // message, is let in.
        let mut ws = ws_connect(port, Some("http://kiosk.localhost"), None)
            .await
            .unwrap();
        send(&mut ws, json!({"token": "kiosk-token-wrong-guess"})).await;
        match ws.next().await {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(u16::from(f.code), 1008);
                assert!(f.reason.contains("token"), "{}", f.reason);
            }
            other => panic!("{other:?}"),
        }
        let mut ws = ws_connect(port, Some("http://kiosk.localhost"), None)
            .await
            .unwrap();
        send(&mut ws, json!({"id": "t", "token": TOKEN})).await;
        assert_eq!(next(&mut ws).await.unwrap()["token"], "accepted");
        let proto = format!("cancuoc, cancuoc.token.{TOKEN}");
        let mut ws = ws_connect(port, Some("http://kiosk.localhost"), Some(&proto))
            .await
            .unwrap();
        send(&mut ws, json!({"id": 1, "cmd": "info"})).await;
        let (info, _) = answer(&mut ws, &json!(1)).await;
        assert_eq!(info["client"], "web:kiosk");
        assert_eq!(info["fields"], json!(["full_name", "id_number", "face"]));
        // A read: progress and the partial identity come unasked, the partial before
        // the face and without anything the rule does not allow.
        send(
            &mut ws,
            json!({"id": 2, "cmd": "read", "access": access, "face": "jpeg"}),
        )
        .await;
        let (done, events) = answer(&mut ws, &json!(2)).await;
        assert_eq!(
            done["result"]["verification"]["verdict"], "genuine",
            "{done:#}"
        );
        assert_eq!(done["result"]["vn"]["full_name"], name.as_str());
        assert!(done["result"]["vn"].get("birth_date").is_none());
        let percents: Vec<u64> = events
            .iter()
            .filter(|e| e["event"] == "read-progress")
            .map(|e| e["percent"].as_u64().unwrap())
            .collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
        assert_eq!(percents.last(), Some(&100), "{percents:?}");
        let partial_at = events
            .iter()
            .position(|e| e["event"] == "read-partial")
            .expect("a read-partial event");
        let partial = &events[partial_at];
        assert_eq!(partial["vn"]["full_name"], name.as_str(), "{partial:#}");
        assert_eq!(
            partial["vn"]["id_number"],
            reference["result"]["vn"]["id_number"]
        );
        assert!(partial.get("verification").is_none() && partial.get("face").is_none());
        assert!(
            partial["vn"].get("birth_date").is_none(),
            "filtered by the rule"
        );
        let dg2_at = events
            .iter()
            .position(|e| e["event"] == "read-progress" && e["step"] == "DG2")
            .expect("DG2 was read");
        assert!(partial_at < dg2_at, "the name comes before the face");
        // A request for a field the rule does not allow is forbidden, as on the socket.
        send(
            &mut ws,
            json!({"id": 3, "cmd": "read", "access": access, "fields": ["family"]}),
        )
        .await;
        assert_eq!(
            answer(&mut ws, &json!(3)).await.0["error"]["code"],
            "forbidden"
        );
        // The page's origin: a rule without token.
        let mut ws = ws_connect(port, Some(&origin), None).await.unwrap();
        send(&mut ws, json!({"id": 1, "cmd": "info"})).await;
        assert_eq!(answer(&mut ws, &json!(1)).await.0["client"], "web:page");
    });
    assert!(
        unix.events
            .iter()
            .any(|e| e["event"] == "read-progress" && e["percent"].is_u64()),
        "progress reaches the Unix socket's reader unsubscribed: {:?}",
        unix.events
    );
    assert!(unix.events.iter().any(|e| e["event"] == "read-partial"));
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("handshake refused"), "{log}");
    assert!(log.contains("wrong or missing token"), "{log}");
    assert!(!log.contains(&name), "no personal data in the log");
}

#[test]
fn ten_thousand_bad_websocket_inputs_leave_the_daemon_up_and_flat() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let rules = format!(
        "{}{}",
        rule("page", &origin, "all", None),
        rule("kiosk", "http://kiosk.localhost", "all", Some(TOKEN))
    );
    let daemon = start("vn-cccd", port, &[], &rules);
    let (access, _) = profile("vn-cccd");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    // Warm up (allocator arenas, the first connection), then measure.
    let warm = rt.block_on(abuse(port, origin.clone(), 40, 25));
    assert_eq!(warm, 1000);
    let before = daemon.memory_kib().0;
    let total = rt.block_on(abuse(port, origin.clone(), 40, 250));
    let after = daemon.memory_kib().0;
    println!(
        "web abuse: {total} bad inputs on 40 connections in {:.1} s; VmRSS {before} KiB before, {after} KiB after",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(total, 10_000);
    assert!(
        after < before + 8 * 1024,
        "RSS grew from {before} to {after} KiB"
    );
    // Handshakes held half-open (nothing sent, or half a request): the daemon closes
    // each, those beyond its cap at once, the others when their headers are late.
    let (at_once, later) = rt.block_on(half_open(port, 100));
    println!("web half-open: 100 held, {at_once} closed at once, {later} at the header deadline");
    assert_eq!(at_once + later, 100);
    assert!(
        at_once >= 30,
        "the cap of 64 closes the rest at once: {at_once}"
    );
    rt.block_on(async {
        let mut ws = ws_connect(port, Some(&origin), None).await.unwrap();
        send(&mut ws, json!({"id": 1, "cmd": "read", "access": access})).await;
        let (done, _) = answer(&mut ws, &json!(1)).await;
        assert_eq!(
            done["result"]["verification"]["verdict"], "genuine",
            "{done:#}"
        );
    });
    let mut d = daemon;
    assert!(d.alive());
    let (code, log) = d.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn wrong_access_keys_are_throttled_per_web_rule() {
    let port = free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let other = "http://other.localhost";
    let rules = format!(
        "{}{}[throttle]\nfree_attempts = 2\nfirst_delay_seconds = 60\n",
        rule("page", &origin, "all", None),
        rule("other", other, "all", None)
    );
    let daemon = start("vn-cccd", port, &[], &rules);
    let wrong = json!({"can": "000000"});
    runtime().block_on(async {
        // free_attempts wrong keys cost nothing, and one more starts the wait.
        for n in 1..=3 {
            let mut ws = ws_connect(port, Some(&origin), None).await.unwrap();
            send(&mut ws, json!({"id": n, "cmd": "read", "access": wrong})).await;
            let (a, _) = answer(&mut ws, &json!(n)).await;
            assert_eq!(a["error"]["code"], "wrong-access-key", "attempt {n}: {a}");
        }
        // A new connection of the same rule: the rule's count holds.
        let mut ws = ws_connect(port, Some(&origin), None).await.unwrap();
        send(&mut ws, json!({"id": 4, "cmd": "read", "access": wrong})).await;
        let (a, _) = answer(&mut ws, &json!(4)).await;
        assert_eq!(a["error"]["code"], "throttled", "{a}");
        assert!(a["error"]["retry_after_ms"].as_u64().unwrap() > 0, "{a}");
        // Another rule has a count of its own: asked for a reader that does not exist,
        // its page is told so, where the first rule's is throttled before any reader.
        let unknown = json!({"id": 5, "cmd": "read", "reader": "nope", "access": wrong});
        send(&mut ws, unknown.clone()).await;
        let (a, _) = answer(&mut ws, &json!(5)).await;
        assert_eq!(a["error"]["code"], "throttled", "{a}");
        let mut ws = ws_connect(port, Some(other), None).await.unwrap();
        send(&mut ws, unknown).await;
        let (a, _) = answer(&mut ws, &json!(5)).await;
        assert_eq!(a["error"]["code"], "reader-error", "{a}");
    });
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// Opens `n` connections at once that never finish a handshake (even ones send nothing,
/// odd ones half a request) and waits, with a deadline, for the daemon to close each.
/// Returns how many were closed within a second and how many later.
async fn half_open(port: u16, n: usize) -> (usize, usize) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let opened = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            if i % 2 == 1 {
                // A write to a connection already closed may fail: that is a close too.
                let _ = s
                    .write_all(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs")
                    .await;
            }
            let mut buf = [0u8; 512];
            loop {
                match tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await {
                    Err(_) => panic!("connection {i} still open after 30 s"),
                    // Closed (an HTTP error answer before the close is fine too).
                    Ok(Ok(0)) | Ok(Err(_)) => return Instant::now(),
                    Ok(Ok(_)) => {}
                }
            }
        }));
    }
    let mut at_once = 0;
    let mut later = 0;
    for t in tasks {
        let closed = t.await.unwrap();
        if closed.duration_since(opened) < Duration::from_secs(1) {
            at_once += 1;
        } else {
            later += 1;
        }
    }
    (at_once, later)
}

/// `connections` tasks, each sending `per` bad inputs; returns how many got an error
/// answer or a clean close (every one must).
async fn abuse(port: u16, origin: String, connections: usize, per: usize) -> usize {
    let mut tasks = Vec::new();
    for c in 0..connections {
        let origin = origin.clone();
        tasks.push(tokio::spawn(async move {
            let mut handled = 0;
            let mut ws: Option<Ws> = None;
            for i in 0..per {
                let kind = (c * 7 + i) % 10;
                if kind < 3 {
                    // A client that misbehaves in its handshake comes back on a
                    // connection of its own: the one it held is closed first, so the
                    // tasks together stay under the endpoint's cap of 64 connections,
                    // which would otherwise refuse some of them for being too many.
                    ws = None;
                }
                match kind {
                    // Handshakes that are refused or never finish: a fresh connection each.
                    0 => {
                        let o = if i % 2 == 0 { "http://evil.example" } else { "null" };
                        if let Err(WsError::Http(r)) = ws_connect(port, Some(o), None).await {
                            assert_eq!(r.status(), 403);
                            handled += 1;
                        }
                        continue;
                    }
                    1 => {
                        use tokio::io::AsyncWriteExt as _;
                        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                        let _ = s
                            .write_all(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nOrigin: ")
                            .await;
                        drop(s);
                        handled += 1;
                        continue;
                    }
                    2 => {
                        let mut k = ws_connect(port, Some("http://kiosk.localhost"), None).await.unwrap();
                        send(&mut k, json!({"token": format!("wrong-{i}")})).await;
                        if let Some(Ok(Message::Close(Some(f)))) = k.next().await {
                            assert_eq!(u16::from(f.code), 1008);
                            handled += 1;
                        }
                        continue;
                    }
                    _ => {}
                }
                if ws.is_none() {
                    ws = Some(ws_connect(port, Some(&origin), None).await.unwrap());
                }
                let socket = ws.as_mut().unwrap();
                let msg = match kind {
                    3 => Message::text(format!("not json {i}")),
                    4 => Message::binary(vec![0u8, 1, 2, (i % 256) as u8]),
                    5 => Message::text(format!("{{\"id\": {i}, \"cmd\": \"no-such\"}}")),
                    6 => Message::text("[1,2,3]"),
                    7 => Message::text(format!("{{\"id\": {i}, \"cmd\": \"read\", \"access\": {{\"can\": \"x\"}}}}")),
                    8 => Message::text("{\"id\": {\"nested\": true}}"),
                    _ => Message::text("x".repeat(70 * 1024)),
                };
                let oversized = kind == 9;
                if socket.send(msg).await.is_err() {
                    ws = None;
                    continue;
                }
                match next(socket).await {
                    Some(m) if m.get("error").is_some() => handled += 1,
                    other => panic!("kind {kind}: {other:?}"),
                }
                if oversized {
                    // Answered, then closed.
                    assert!(next(socket).await.is_none());
                    ws = None;
                }
            }
            handled
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

// The operator page in a real browser.

struct Driver {
    child: Child,
    port: u16,
    profile_dir: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile_dir);
    }
}

fn chromedriver(test: &str) -> Option<Driver> {
    for needed in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        if !Path::new(needed).exists() {
            common::skip(
                test,
                &format!(
                    "needs {needed} (Debian packages chromium and chromium-driver; make deps installs them)"
                ),
            );
            return None;
        }
    }
    let port = free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver {
        child,
        port,
        profile_dir: temp_path("chromium", "profile"),
    })
}

async fn browser(driver: &Driver) -> fantoccini::Client {
    std::fs::create_dir_all(&driver.profile_dir).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=900,900",
                format!("--user-data-dir={}", driver.profile_dir.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

/// Evaluates `script` (which returns a value) in the page.
async fn eval(c: &fantoccini::Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("the script runs")
}

/// Polls `script` until it returns `true`, for up to `secs` seconds.
async fn wait_true(c: &fantoccini::Client, script: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if eval(c, script).await == json!(true) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Opens the page, types the QR text of the card, reads, and waits for the verdict.
async fn read_on_page(c: &fantoccini::Client, url: &str, qr: &str) -> Value {
    c.goto(url).await.unwrap();
    assert!(
        wait_true(c, "return document.getElementById('link').dataset.state === 'open' && document.querySelector('#readers li[data-card=\"true\"]') !== null", 20).await,
        "the page connects and shows the card"
    );
    c.find(fantoccini::Locator::Id("lang-en"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = c.find(fantoccini::Locator::Id("access")).await.unwrap();
    input.send_keys(qr).await.unwrap();
    c.find(fantoccini::Locator::Id("read"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        wait_true(c, "const v = document.getElementById('verdict').dataset.verdict; return v !== 'pending' && v !== undefined", 60).await,
        "a verdict appears"
    );
    eval(
        c,
        "const $ = (i) => document.getElementById(i); const img = $('face');
         return {verdict: $('verdict').dataset.verdict, badge: $('verdict').textContent,
                 name: $('name').textContent, id: $('id-number').textContent,
                 birth: $('birth').textContent, reasons: $('reasons').textContent,
                 face: img.complete ? img.naturalWidth : 0, progress: $('progress').value};",
    )
    .await
}

#[test]
fn the_operator_page_in_chromium_shows_genuine_and_forged_cards_and_refuses_other_origins() {
    let test =
        "the_operator_page_in_chromium_shows_genuine_and_forged_cards_and_refuses_other_origins";
    let Some(driver) = chromedriver(test) else {
        return;
    };
    let rt = runtime();
    // Cargo's scratch folder for integration tests, wherever the target directory is.
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-operator-page.png");
    std::fs::create_dir_all(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for (profile_name, want) in [("vn-cccd", "genuine"), ("attack-cam-wrong-proof", "forged")] {
        let port = free_port();
        let other = free_port();
        let origin = format!("http://127.0.0.1:{port}");
        let daemon = start(
            profile_name,
            port,
            &[other],
            &rule("operator", &origin, "all", None),
        );
        let (access, _) = profile(profile_name);
        let id = access["id_number"].as_str().unwrap().to_owned();
        let expected = daemon
            .connect()
            .request(json!({"cmd": "read", "access": access}));
        let name = expected["result"]["vn"]["full_name"]
            .as_str()
            .unwrap()
            .to_owned();
        let qr = format!("{id}|123456789|{name}|01012000|Nam|Hà Nội|01012021");
        rt.block_on(async {
            let c = browser(&driver).await;
            let shown = read_on_page(&c, &format!("{origin}/"), &qr).await;
            println!("{profile_name}: {shown}");
            assert_eq!(shown["verdict"], want, "{shown:#}");
            assert_eq!(shown["name"], name.as_str(), "{shown:#}");
            assert_eq!(shown["id"], id.as_str(), "{shown:#}");
            assert!(
                shown["face"].as_u64().unwrap() > 0,
                "the face loaded: {shown:#}"
            );
            assert_eq!(shown["progress"], 100.0);
            if want == "genuine" {
                assert!(
                    shown["badge"].as_str().unwrap().starts_with("Genuine"),
                    "{shown:#}"
                );
                let png = c.screenshot().await.unwrap();
                std::fs::write(&screenshot, png).unwrap();
            } else {
                assert!(
                    shown["badge"].as_str().unwrap().starts_with("Forged"),
                    "{shown:#}"
                );
                assert!(
                    !shown["reasons"].as_str().unwrap().is_empty(),
                    "the reason is given: {shown:#}"
                );
                let png = c.screenshot().await.unwrap();
                std::fs::write(
                    screenshot.with_file_name("web-operator-page-forged.png"),
                    png,
                )
                .unwrap();
                // The same page from an origin no rule names cannot connect.
                c.goto(&format!("http://127.0.0.1:{other}/")).await.unwrap();
                assert!(
                    wait_true(
                        &c,
                        "return document.getElementById('link').dataset.state === 'closed'",
                        20
                    )
                    .await,
                    "a foreign origin is refused"
                );
                let readers = eval(
                    &c,
                    "return document.querySelectorAll('#readers li[data-card]').length",
                )
                .await;
                assert_eq!(readers, json!(0), "it learns nothing");
            }
            c.close().await.unwrap();
        });
        let (code, log) = daemon.stop();
        assert_eq!(code, Some(0), "{log}");
        if want == "forged" {
            assert!(
                log.contains("handshake refused") && log.contains(&format!("127.0.0.1:{other}")),
                "the refusal is logged: {log}"
            );
        }
    }
    assert!(screenshot.exists());
}
