//! The socket API's own cost, in process over a real Unix socket: an `info` round trip,
//! and a whole `read` of the daemon's simulated vn-cccd card (no link model, so this is
//! host time: secure messaging, parsing, passive and chip authentication, the answer's
//! JSON) for a name-only client and for one that takes everything with the face.
//! `cargo bench -p cancuoc --bench api`.

use std::path::PathBuf;
use std::time::Duration;

use cancuoc::api::{self, Shared};
use cancuoc::config::Config;
use cancuoc::trust::TrustStore;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

struct Client {
    stream: BufReader<UnixStream>,
    line: String,
}

impl Client {
    async fn ask(&mut self, request: &[u8]) -> Value {
        self.stream.get_mut().write_all(request).await.unwrap();
        self.line.clear();
        self.stream.read_line(&mut self.line).await.unwrap();
        serde_json::from_str(&self.line).unwrap()
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let uid = nix::unistd::getuid();
    let config = Config::parse(&format!(
        "[readers]\npcsc = false\n[[readers.simulator]]\nname = \"Sim\"\nprofile = \"vn-cccd\"\n\
         [[client]]\nname = \"all\"\nusers = [{uid}]\nfields = [\"all\"]\n"
    ))
    .unwrap();
    let mut trust = TrustStore::new();
    trust
        .load_path(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem"))
        .unwrap();
    let path = std::env::temp_dir().join(format!("cancuoc-bench-{}.sock", std::process::id()));
    let id_number = cancuoc::sim::profile::vn_cccd()
        .unwrap()
        .printed
        .id_number
        .clone();
    let mut client = runtime.block_on(async {
        let shared = Shared::start(config, trust).unwrap();
        let listener = api::bind(&path).unwrap();
        tokio::spawn(api::run(listener, shared, std::future::pending::<()>()));
        Client {
            stream: BufReader::new(UnixStream::connect(&path).await.unwrap()),
            line: String::new(),
        }
    });

    let mut group = c.benchmark_group("api");
    group.bench_function("info round trip", |b| {
        b.iter(|| runtime.block_on(client.ask(b"{\"id\":1,\"cmd\":\"info\"}\n")))
    });
    group
        .measurement_time(Duration::from_secs(10))
        .sample_size(20);
    for (name, extra) in [
        (
            "read vn-cccd, full_name only",
            json!({"fields": ["full_name"]}),
        ),
        (
            "read vn-cccd, every field and the face",
            json!({"face": "jpeg"}),
        ),
    ] {
        let mut request =
            json!({"id": 2, "cmd": "read", "reader": "Sim", "access": {"id_number": id_number}});
        request
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let mut line = request.to_string().into_bytes();
        line.push(b'\n');
        group.bench_function(name, |b| {
            b.iter(|| {
                let answer = runtime.block_on(client.ask(&line));
                assert_eq!(answer["result"]["verification"]["verdict"], "genuine");
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
