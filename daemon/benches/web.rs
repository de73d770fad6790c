//! The browser endpoint's cost against the Unix socket's: an `info` round trip over a
//! loopback WebSocket (the frame, the bridge into the socket API's connection handler,
//! and back) next to the same round trip over the Unix socket, both in process.
//! `cargo bench -p cancuoc --bench web`.

use std::net::SocketAddr;

use cancuoc::api::{self, Shared};
use cancuoc::config::Config;
use cancuoc::trust::TrustStore;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let uid = nix::unistd::getuid();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let origin = format!("http://127.0.0.1:{port}");
    let config = Config::parse(&format!(
        "[readers]\npcsc = false\n[[client]]\nname = \"all\"\nusers = [{uid}]\nfields = [\"all\"]\n\
         [web]\nlisten = [\"127.0.0.1:{port}\"]\n\
         [[web_client]]\nname = \"bench\"\norigins = [\"{origin}\"]\nfields = [\"all\"]\n"
    ))
    .unwrap();
    let web = config.web.clone().unwrap();
    let path = std::env::temp_dir().join(format!("cancuoc-bench-web-{}.sock", std::process::id()));
    let (mut unix, mut ws) = runtime.block_on(async {
        let shared = Shared::start(config, TrustStore::new()).unwrap();
        let listener = api::bind(&path).unwrap();
        tokio::spawn(api::run(
            listener,
            shared.clone(),
            std::future::pending::<()>(),
        ));
        let listeners = cancuoc::web::bind(&web).await.unwrap();
        tokio::spawn(cancuoc::web::run(
            listeners,
            shared,
            std::future::pending::<()>(),
        ));
        let unix = BufReader::new(UnixStream::connect(&path).await.unwrap());
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut request = format!("ws://{addr}/api").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(&origin).unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        (unix, ws)
    });
    let mut line = String::new();
    let mut group = c.benchmark_group("info round trip");
    group.bench_function("unix socket", |b| {
        b.iter(|| {
            runtime.block_on(async {
                unix.get_mut()
                    .write_all(b"{\"id\":1,\"cmd\":\"info\"}\n")
                    .await
                    .unwrap();
                line.clear();
                unix.read_line(&mut line).await.unwrap();
            })
        })
    });
    group.bench_function("websocket", |b| {
        b.iter(|| {
            runtime.block_on(async {
                ws.send(Message::text("{\"id\":1,\"cmd\":\"info\"}"))
                    .await
                    .unwrap();
                match ws.next().await {
                    Some(Ok(Message::Text(_))) => {}
                    other => panic!("{other:?}"),
                }
            })
        })
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
