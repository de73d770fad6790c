//! `read`: one verified read of the card on a PC/SC reader. One read per reader at a
//! time; a second gets `busy`.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use apdu::rng::SystemRng;
use serde_json::{Map, Value};

use super::{CmdError, Code, Fields};
use crate::api::Shared;
use crate::lds::dg2::OutputFormat;
use crate::session::access::AccessInput;
use crate::session::{self, ReadError, ReadRequest};
use crate::transport::pcsc::{PcscCard, PcscError};

/// The fields of a `read` request (other fields, `id` and `cmd` among them, are ignored).
#[derive(serde::Deserialize)]
struct Params {
    reader: String,
    access: AccessInput,
    #[serde(default)]
    face: Option<Face>,
}

#[derive(serde::Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Face {
    Jpeg,
    Png,
}

/// Marks a reader busy while it lives.
#[derive(Debug)]
pub struct BusyGuard {
    set: Arc<Mutex<HashSet<String>>>,
    reader: String,
}

impl BusyGuard {
    /// Claims `reader`; `None` when a read is already under way on it.
    pub fn claim(set: &Arc<Mutex<HashSet<String>>>, reader: &str) -> Option<BusyGuard> {
        let mut busy = set.lock().unwrap_or_else(|p| p.into_inner());
        if !busy.insert(reader.to_owned()) {
            return None;
        }
        Some(BusyGuard {
            set: set.clone(),
            reader: reader.to_owned(),
        })
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut busy = self.set.lock().unwrap_or_else(|p| p.into_inner());
        busy.remove(&self.reader);
    }
}

fn read_error(e: &ReadError) -> CmdError {
    let code = match e {
        ReadError::WrongAccessKey => Code::WrongAccessKey,
        ReadError::CardRemoved => Code::CardRemoved,
        ReadError::Card(apdu::Error::Transport(_)) => Code::ReaderError,
        ReadError::Card(_) | ReadError::File { .. } => Code::CardError,
    };
    CmdError::new(code, e.to_string())
}

/// Runs `read`: `{"result": <ReadResult>}`.
pub async fn run(request: Map<String, Value>, shared: &Arc<Shared>) -> Result<Fields, CmdError> {
    // A malformed access object fails as a whole ("did not match any variant"), so the
    // message never quotes access data.
    let params: Params = serde_json::from_value(Value::Object(request))
        .map_err(|e| CmdError::new(Code::BadRequest, format!("read: {e}")))?;
    let access = params
        .access
        .to_key()
        .map_err(|e| CmdError::new(Code::BadRequest, e.to_string()))?;
    let request = ReadRequest {
        access,
        face: params.face.map(|f| match f {
            Face::Jpeg => OutputFormat::Jpeg,
            Face::Png => OutputFormat::Png,
        }),
        raw: false,
        skip: BTreeSet::new(),
    };
    let Some(guard) = BusyGuard::claim(&shared.busy, &params.reader) else {
        return Err(CmdError::new(
            Code::Busy,
            "a read is under way on that reader",
        ));
    };
    let trust = shared.trust.clone();
    let reader = params.reader.clone();
    // The guard moves into the blocking task: the reader stays busy until the card is
    // released, even when the client leaves mid-read.
    let outcome = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        let mut card = PcscCard::connect(&reader).map_err(|e| match e {
            PcscError::NoCard => CmdError::new(Code::CardRemoved, e.to_string()),
            e => CmdError::new(Code::ReaderError, e.to_string()),
        })?;
        session::read_card(&mut card, &request, &trust, &mut SystemRng, &mut |_| {})
            .map(|(result, _)| result)
            .map_err(|e| read_error(&e))
    })
    .await
    .map_err(|e| CmdError::new(Code::Internal, e.to_string()))??;
    let result =
        serde_json::to_value(&outcome).map_err(|e| CmdError::new(Code::Internal, e.to_string()))?;
    let mut fields = Fields::new();
    fields.insert("result".into(), result);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_is_claimed_once() {
        let set = Arc::new(Mutex::new(HashSet::new()));
        let first = BusyGuard::claim(&set, "R");
        assert!(first.is_some());
        assert!(BusyGuard::claim(&set, "R").is_none());
        assert!(BusyGuard::claim(&set, "S").is_some());
        drop(first);
        assert!(BusyGuard::claim(&set, "R").is_some());
    }
}
