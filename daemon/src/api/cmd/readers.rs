//! `readers`: every reader the daemon serves, whether a card is in it, whether it is
//! busy.

use serde_json::json;

use super::Fields;
use crate::api::context::Context;

/// `{"readers": [{"name", "kind", "card_present", "atr", "busy"}…]}`.
pub fn run(context: &Context) -> Fields {
    let mut fields = Fields::new();
    fields.insert("readers".into(), json!(context.shared.readers.list()));
    fields
}
