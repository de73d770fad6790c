//! `info`: the daemon's version and API level, and what this client may have.

use serde_json::json;

use super::Fields;
use crate::api::context::Context;

/// `{"version", "api_level", "client", "fields"}`.
pub fn run(context: &Context) -> Fields {
    let mut fields = Fields::new();
    fields.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    fields.insert("api_level".into(), json!(crate::api::API_LEVEL));
    if let Some(client) = &context.client {
        fields.insert("client".into(), json!(client.name));
        fields.insert("fields".into(), json!(client.fields.names()));
    }
    fields
}
