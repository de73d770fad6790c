//! `info`: the daemon's version and API level.

use serde_json::json;

use super::Fields;

/// `{"version": …, "api_level": 1}`.
pub fn run() -> Fields {
    let mut fields = Fields::new();
    fields.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    fields.insert("api_level".into(), json!(crate::api::API_LEVEL));
    fields
}
