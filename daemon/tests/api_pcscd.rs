//! The socket API's `readers` and `read` through a real pcscd with `cancuoc sim` behind
//! vpcd. Needs `scripts/with-pcscd.sh` (`make test` runs it); skips itself otherwise.

mod common;

use std::time::Duration;

use cancuoc::api::{self, Shared};
use cancuoc::config::Config;
use cancuoc::trust::TrustStore;
use common::{Sim, context, testbed, wait_for_card};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

async fn ask(stream: &mut BufReader<UnixStream>, request: Value) -> Value {
    let mut line = request.to_string();
    line.push('\n');
    stream.get_mut().write_all(line.as_bytes()).await.unwrap();
    // A read's own progress comes to the asking connection first: skip events.
    loop {
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(60), stream.read_line(&mut answer))
            .await
            .expect("an answer")
            .unwrap();
        let answer: Value = serde_json::from_str(&answer).expect("JSON answer");
        if answer.get("event").is_none() {
            return answer;
        }
    }
}

#[test]
fn readers_and_reads_through_pcscd() {
    let Some((_slot, vpcd, reader)) = testbed("readers_and_reads_through_pcscd") else {
        return;
    };
    let sim = Sim::start(&vpcd, &["--profile", "vn-cccd", "--latency-ms", "0"]);
    assert!(wait_for_card(&context(), &reader, true), "the card appears");
    let reader = reader.to_str().unwrap().to_owned();
    let id = sim.id_number();
    let trust = TrustStore::load(&[sim.csca()], &[]).expect("trust loads");
    let path = std::env::temp_dir().join(format!("cancuoc-api-pcscd-{}.sock", std::process::id()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = api::bind(&path).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let uid = nix::unistd::getuid();
        let config = Config::parse(&format!(
            "[[client]]\nname = \"tests\"\nusers = [{uid}]\nfields = [\"all\"]\n"
        ))
        .unwrap();
        let shared = Shared::start(config, trust).unwrap();
        let server = tokio::spawn(api::run(listener, shared, async move {
            let _ = stopped.await;
        }));
        let mut client = BufReader::new(UnixStream::connect(&path).await.unwrap());

        // The daemon's watcher reports the card a moment after it starts.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let answer = ask(&mut client, json!({"id": 1, "cmd": "readers"})).await;
            let listed = answer["readers"].as_array().expect("a reader list");
            if listed.iter().any(|r| {
                r["name"] == reader.as_str() && r["card_present"] == true && r["kind"] == "pcsc"
            }) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{answer}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let answer = ask(
            &mut client,
            json!({"id": 2, "cmd": "read", "reader": reader, "access": {"can": "000000"}}),
        )
        .await;
        assert_eq!(answer["error"]["code"], "wrong-access-key", "{answer}");

        let answer = ask(
            &mut client,
            json!({"id": "r", "cmd": "read", "reader": reader, "access": {"id_number": id}, "face": "png"}),
        )
        .await;
        assert_eq!(answer["id"], "r");
        let result = &answer["result"];
        assert_eq!(result["verification"]["verdict"], "genuine", "{answer:.300}");
        assert_eq!(result["vn"]["id_number"], id.as_str());
        assert!(result["face"].is_object(), "the face was read");

        // Two reads of one reader at once, from two connections: one of them is busy.
        let mut other = BufReader::new(UnixStream::connect(&path).await.unwrap());
        let read = json!({"id": 5, "cmd": "read", "reader": reader, "access": {"id_number": id}, "face": "png"});
        let (a, b) = tokio::join!(ask(&mut client, read.clone()), ask(&mut other, read.clone()));
        let busy = [&a, &b]
            .iter()
            .filter(|x| x["error"]["code"] == "busy")
            .count();
        let done = [&a, &b].iter().filter(|x| x["result"].is_object()).count();
        assert_eq!((busy, done), (1, 1), "{a:.200} {b:.200}");
        // And free again afterwards.
        let again = ask(&mut other, read).await;
        assert!(again["result"].is_object(), "{again:.200}");

        let answer = ask(
            &mut client,
            json!({"id": 4, "cmd": "read", "reader": "No Such Reader", "access": {"can": "123456"}}),
        )
        .await;
        assert_eq!(answer["error"]["code"], "reader-error", "{answer}");

        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("run ends")
            .unwrap();
    });
    let _ = std::fs::remove_file(&path);
    sim.stop();
}
