//! `readers`: the PC/SC readers and whether a card is in each.

use super::{CmdError, Code, Fields};
use crate::transport::pcsc;

/// `{"readers": [{"name", "card_present", "atr"}…]}`.
pub async fn run() -> Result<Fields, CmdError> {
    let listed = tokio::task::spawn_blocking(pcsc::list_readers)
        .await
        .map_err(|e| CmdError::new(Code::Internal, e.to_string()))?
        .map_err(|e| CmdError::new(Code::ReaderError, e.to_string()))?;
    let readers =
        serde_json::to_value(listed).map_err(|e| CmdError::new(Code::Internal, e.to_string()))?;
    let mut fields = Fields::new();
    fields.insert("readers".into(), readers);
    Ok(fields)
}
