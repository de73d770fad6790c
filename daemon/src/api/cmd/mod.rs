//! Requests and answers: `{"id": …, "cmd": "…", …}` in, `{"id": …, …}` or
//! `{"id": …, "error": {"code", "message"}}` out. One file per command.

pub mod info;
pub mod read;
pub mod readers;

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::Shared;

/// The error codes of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request is not valid (framing, JSON, fields, access data).
    BadRequest,
    /// The card refused the access key.
    WrongAccessKey,
    /// No card, or the card went away during the read.
    CardRemoved,
    /// Another read is under way on that reader.
    Busy,
    /// PC/SC failed (no service, unknown reader, transmission error).
    ReaderError,
    /// The card answered outside the protocols, or a mandatory file did not decode.
    CardError,
    /// The daemon failed.
    Internal,
}

impl Code {
    /// The code as it appears in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad-request",
            Code::WrongAccessKey => "wrong-access-key",
            Code::CardRemoved => "card-removed",
            Code::Busy => "busy",
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
}

impl CmdError {
    /// An error of `code`.
    pub fn new(code: Code, message: impl Into<String>) -> CmdError {
        CmdError {
            code,
            message: message.into(),
        }
    }
}

/// `{"id": id, "error": {"code", "message"}}`.
pub fn error_answer(id: &Value, code: Code, message: &str) -> Value {
    json!({"id": id, "error": {"code": code.as_str(), "message": message}})
}

/// What a command answers besides the id: the fields of the answer object.
pub type Fields = Map<String, Value>;

/// Parses one request line and answers it.
pub async fn answer(line: &[u8], shared: &Arc<Shared>) -> Value {
    let request: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => {
            let message = if std::str::from_utf8(line).is_err() {
                "the request is not UTF-8".to_owned()
            } else {
                format!("the request is not JSON: {e}")
            };
            return error_answer(&Value::Null, Code::BadRequest, &message);
        }
    };
    let Value::Object(request) = request else {
        return error_answer(
            &Value::Null,
            Code::BadRequest,
            "the request is not an object",
        );
    };
    let id = match request.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        Some(_) => {
            return error_answer(
                &Value::Null,
                Code::BadRequest,
                "id must be a number or a string",
            );
        }
        None => return error_answer(&Value::Null, Code::BadRequest, "the request has no id"),
    };
    let Some(Value::String(name)) = request.get("cmd") else {
        return error_answer(&id, Code::BadRequest, "cmd must be a string");
    };
    let name = name.clone();
    let started = Instant::now();
    let outcome = match name.as_str() {
        "info" => Ok(info::run()),
        "readers" => readers::run().await,
        "read" => read::run(request, shared).await,
        _ => Err(CmdError::new(Code::BadRequest, "unknown cmd")),
    };
    let known = matches!(name.as_str(), "info" | "readers" | "read");
    let cmd = if known { name.as_str() } else { "(unknown)" };
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(fields) => {
            tracing::info!(cmd, seconds, "api: command done");
            let mut answer = Map::new();
            answer.insert("id".into(), id);
            answer.extend(fields);
            Value::Object(answer)
        }
        Err(e) => {
            tracing::info!(cmd, seconds, code = e.code.as_str(), "api: command failed");
            error_answer(&id, e.code, &e.message)
        }
    }
}
