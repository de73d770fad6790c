//! `subscribe` and `unsubscribe`: reader and card events, and the progress of this
//! connection's reads, as unasked lines.

use serde_json::json;

use super::Fields;
use crate::api::context::Context;

/// `{"readers": […]}`: the readers at the moment the events start, so that no change
/// falls between the list and the first event.
pub fn run(context: &mut Context) -> Fields {
    let (readers, events) = context.shared.readers.subscribe();
    context.subscribe(events);
    let mut fields = Fields::new();
    fields.insert("subscribed".into(), json!(true));
    fields.insert("readers".into(), json!(readers));
    fields
}

/// `{"subscribed": false}`.
pub fn stop(context: &mut Context) -> Fields {
    context.unsubscribe();
    let mut fields = Fields::new();
    fields.insert("subscribed".into(), json!(false));
    fields
}
