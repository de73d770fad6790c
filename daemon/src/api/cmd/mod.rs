//! Requests and answers: `{"id": …, "cmd": "…", …}` in, `{"id": …, …}` or
//! `{"id": …, "error": {"code", "message"}}` out. One file per command.

pub mod cancel;
pub mod info;
pub mod read;
pub mod readers;
pub mod subscribe;

use std::time::Instant;

use serde_json::{Map, Value, json};

use super::context::Context;
use crate::failure::Failure;

/// The error codes of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request is not valid (framing, JSON, fields, access data).
    BadRequest,
    /// The card refused the access key.
    WrongAccessKey,
    /// No card, or the card went away during the read.
    CardRemoved,
    /// Another read is under way on that reader (or on this connection).
    Busy,
    /// The client may not do this, or have these fields.
    Forbidden,
    /// Too many wrong access keys: wait `retry_after_ms`.
    Throttled,
    /// The read was cancelled (`cancel`, or the daemon is stopping).
    Cancelled,
    /// PC/SC failed (no service, unknown reader, transmission error).
    ReaderError,
    /// The card answered outside the protocols, or a mandatory file did not decode.
    CardError,
    /// The daemon failed.
    Internal,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 10] = [
        Code::BadRequest,
        Code::WrongAccessKey,
        Code::CardRemoved,
        Code::Busy,
        Code::Forbidden,
        Code::Throttled,
        Code::Cancelled,
        Code::ReaderError,
        Code::CardError,
        Code::Internal,
    ];

    /// The code a failure class answers with.
    pub fn of(failure: Failure) -> Code {
        match failure {
            Failure::BadRequest => Code::BadRequest,
            Failure::Forbidden => Code::Forbidden,
            Failure::WrongAccessKey => Code::WrongAccessKey,
            Failure::Throttled => Code::Throttled,
            Failure::CardRemoved => Code::CardRemoved,
            Failure::Busy => Code::Busy,
            Failure::Cancelled => Code::Cancelled,
            Failure::Transport => Code::ReaderError,
            Failure::CardProtocol | Failure::ChipNotAuthentic => Code::CardError,
            Failure::Internal => Code::Internal,
        }
    }

    /// The class a client makes of this code: the first of [`Failure::ALL`] answering
    /// with it.
    pub fn failure(self) -> Failure {
        Failure::ALL
            .into_iter()
            .find(|f| Code::of(*f) == self)
            .unwrap_or(Failure::Internal)
    }

    /// The code written `text` in answers; `None` for a code this version does not know.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The class a client makes of a code as an answer writes it: internal for a code
    /// this version does not know.
    pub fn failure_of(text: &str) -> Failure {
        Code::parse(text).map_or(Failure::Internal, Code::failure)
    }

    /// The code as it appears in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad-request",
            Code::WrongAccessKey => "wrong-access-key",
            Code::CardRemoved => "card-removed",
            Code::Busy => "busy",
            Code::Forbidden => "forbidden",
            Code::Throttled => "throttled",
            Code::Cancelled => "cancelled",
            Code::ReaderError => "reader-error",
            Code::CardError => "card-error",
            Code::Internal => "internal",
        }
    }
}

/// A failed command.
#[derive(Debug, Clone)]
pub struct CmdError {
    /// Which kind.
    pub code: Code,
    /// For people; never holds personal data.
    pub message: String,
    /// For `throttled`: how long to wait.
    pub retry_after: Option<std::time::Duration>,
}

impl CmdError {
    /// An error of `code`.
    pub fn new(code: Code, message: impl Into<String>) -> CmdError {
        CmdError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// An error of the code of `failure`.
    pub fn failed(failure: Failure, message: impl Into<String>) -> CmdError {
        CmdError::new(Code::of(failure), message)
    }

    /// The answer line.
    pub fn answer(&self, id: &Value) -> Value {
        let mut answer = error_answer(id, self.code, &self.message);
        if let (Some(wait), Some(error)) = (self.retry_after, answer.get_mut("error")) {
            error["retry_after_ms"] = json!(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        }
        answer
    }
}

/// `{"id": id, "error": {"code", "message"}}`.
pub fn error_answer(id: &Value, code: Code, message: &str) -> Value {
    json!({"id": id, "error": {"code": code.as_str(), "message": message}})
}

/// `{"id": id, …fields}`.
pub fn success_answer(id: Value, fields: Fields) -> Value {
    let mut answer = Map::new();
    answer.insert("id".into(), id);
    answer.extend(fields);
    Value::Object(answer)
}

/// The commands, as logs name them.
const COMMANDS: [&str; 6] = [
    "info",
    "readers",
    "subscribe",
    "unsubscribe",
    "read",
    "cancel",
];

/// What a command answers besides the id: the fields of the answer object.
pub type Fields = Map<String, Value>;

/// A request line, parsed: its id, its command (as logs name it; `(unknown)` for a
/// name that is not a command), and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id to answer with.
    pub id: Value,
    /// The command.
    pub cmd: &'static str,
    /// The whole request object.
    pub params: Map<String, Value>,
}

/// Parses one request line; a line that is no request gives the error answer to send.
pub fn parse(line: &[u8]) -> Result<Request, Value> {
    let bad = |id: &Value, message: &str| error_answer(id, Code::BadRequest, message);
    let request: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            let message = if std::str::from_utf8(line).is_err() {
                "the request is not UTF-8".to_owned()
            } else {
                format!("the request is not JSON: {e}")
            };
            return Err(bad(&Value::Null, &message));
        }
    };
    let Value::Object(params) = request else {
        return Err(bad(&Value::Null, "the request is not an object"));
    };
    let id = match params.get("id") {
        Some(Value::String(s)) if s.len() > 256 => {
            return Err(bad(&Value::Null, "a string id is at most 256 bytes"));
        }
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        Some(_) => return Err(bad(&Value::Null, "id must be a number or a string")),
        None => return Err(bad(&Value::Null, "the request has no id")),
    };
    let Some(Value::String(name)) = params.get("cmd") else {
        return Err(bad(&id, "cmd must be a string"));
    };
    let cmd = COMMANDS
        .iter()
        .copied()
        .find(|c| *c == name.as_str())
        .unwrap_or("(unknown)");
    Ok(Request { id, cmd, params })
}

/// Parses one request line and answers it. `None` when the command answers later on
/// its own (a `read` under way).
pub async fn answer(line: &[u8], context: &mut Context) -> Option<Value> {
    let Request {
        id,
        cmd,
        params: request,
    } = match parse(line) {
        Ok(r) => r,
        Err(answer) => return Some(answer),
    };
    let Some(client) = context.client.as_ref() else {
        tracing::info!(
            cmd,
            uid = context.peer.map(|p| p.uid),
            "api: client refused"
        );
        return Some(error_answer(
            &id,
            Code::Forbidden,
            "this user is not allowed to use the daemon",
        ));
    };
    let client = client.name.clone();
    let started = Instant::now();
    let outcome = match cmd {
        "info" => Ok(info::run(context)),
        "readers" => Ok(readers::run(context)),
        "subscribe" => Ok(subscribe::run(context)),
        "unsubscribe" => Ok(subscribe::stop(context)),
        "cancel" => cancel::run(&request, context),
        "read" => match read::start(id.clone(), request, context) {
            Ok(()) => return None,
            Err(e) => Err(e),
        },
        _ => Err(CmdError::new(Code::BadRequest, "unknown cmd")),
    };
    let seconds = started.elapsed().as_secs_f64();
    Some(match outcome {
        Ok(fields) => {
            tracing::debug!(cmd, client, seconds, "api: command done");
            success_answer(id, fields)
        }
        Err(e) => {
            tracing::info!(
                cmd,
                client,
                seconds,
                code = e.code.as_str(),
                "api: command failed"
            );
            e.answer(&id)
        }
    })
}
