//! `cancel`: stops this connection's read. The read answers `cancelled` (or its result,
//! when it finished first).

use serde_json::{Map, Value, json};

use super::{CmdError, Code, Fields};
use crate::api::context::Context;

/// `{"cancelled": true}` when a read was under way (and, with `"read": id`, had that
/// id); `false` otherwise.
pub fn run(request: &Map<String, Value>, context: &mut Context) -> Result<Fields, CmdError> {
    let wanted = match request.get("read") {
        None | Some(Value::Null) => None,
        Some(id @ (Value::Number(_) | Value::String(_))) => Some(id),
        Some(_) => {
            return Err(CmdError::new(
                Code::BadRequest,
                "read must be the id of the read to cancel",
            ));
        }
    };
    let running = context.reading();
    let cancelled = match context.read.as_ref() {
        Some(read) if running && wanted.is_none_or(|id| *id == read.id) => {
            read.cancel.cancel();
            true
        }
        _ => false,
    };
    let mut fields = Fields::new();
    fields.insert("cancelled".into(), json!(cancelled));
    Ok(fields)
}
