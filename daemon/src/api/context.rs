//! What a connection knows of its client and its work: the state the commands act on,
//! apart from the framing and the connection's loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::Shared;
use crate::config::{ClientRule, Peer};
use crate::readers::CancelToken;

/// What a connection knows of its client and its work.
pub struct Context {
    /// The shared daemon state.
    pub shared: Arc<Shared>,
    /// The peer's credentials.
    pub peer: Option<Peer>,
    /// The client rule the peer matched; `None` is refused.
    pub client: Option<ClientRule>,
    /// The queue to the writer.
    pub out: mpsc::Sender<Value>,
    /// Whether events are wanted (also read progress).
    pub subscribed: Arc<AtomicBool>,
    events: Option<JoinHandle<()>>,
    /// The read under way.
    pub read: Option<ReadTask>,
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("peer", &self.peer)
            .field("client", &self.client.as_ref().map(|c| &c.name))
            .finish_non_exhaustive()
    }
}

/// A read running for this connection.
#[derive(Debug)]
pub struct ReadTask {
    /// The request's id.
    pub id: Value,
    /// Cancels it.
    pub cancel: CancelToken,
    /// The task; it writes its own answer.
    pub task: JoinHandle<()>,
}

impl Context {
    /// The context of a new connection: not subscribed, no read.
    pub fn new(
        shared: Arc<Shared>,
        peer: Option<Peer>,
        client: Option<ClientRule>,
        out: mpsc::Sender<Value>,
    ) -> Context {
        Context {
            shared,
            peer,
            client,
            out,
            subscribed: Arc::new(AtomicBool::new(false)),
            events: None,
            read: None,
        }
    }

    /// Whether a read of this connection is still running.
    pub fn reading(&self) -> bool {
        self.read.as_ref().is_some_and(|r| !r.task.is_finished())
    }

    /// Starts forwarding reader events to the client.
    pub fn subscribe(&mut self, mut events: broadcast::Receiver<crate::readers::Event>) {
        self.subscribed.store(true, Ordering::SeqCst);
        if let Some(old) = self.events.take() {
            old.abort();
        }
        let out = self.out.clone();
        self.events = Some(tokio::spawn(async move {
            loop {
                let line = match events.recv().await {
                    Ok(event) => serde_json::to_value(&event).unwrap_or(Value::Null),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        serde_json::json!({"event": "events-lost", "count": n})
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if out.send(line).await.is_err() {
                    return;
                }
            }
        }));
    }

    /// Stops the events.
    pub fn unsubscribe(&mut self) {
        self.subscribed.store(false, Ordering::SeqCst);
        if let Some(events) = self.events.take() {
            events.abort();
        }
    }
}
