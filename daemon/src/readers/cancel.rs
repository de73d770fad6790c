//! Cancelling a read: a token the client's `cancel`, its disconnection or the daemon's
//! shutdown sets, and a card wrapper that stops at the next command once it is set.

use std::sync::Arc;

use apdu::{Card, Command, Response};
use tokio::sync::watch;

/// Set once; seen by every clone.
#[derive(Clone, Debug)]
pub struct CancelToken(Arc<watch::Sender<bool>>);

impl Default for CancelToken {
    fn default() -> CancelToken {
        CancelToken::new()
    }
}

impl CancelToken {
    /// A token not yet set.
    pub fn new() -> CancelToken {
        CancelToken(Arc::new(watch::Sender::new(false)))
    }

    /// Sets the token.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether the token is set.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once the token is set.
    pub async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail on a closed channel.
        let _ = rx.wait_for(|set| *set).await;
    }
}

/// A card that refuses further commands once its token is set, so a cancelled read ends
/// within one APDU and releases the reader.
pub struct Cancellable<'a> {
    card: &'a mut dyn Card,
    token: CancelToken,
}

impl<'a> Cancellable<'a> {
    /// Wraps `card`.
    pub fn new(card: &'a mut dyn Card, token: CancelToken) -> Cancellable<'a> {
        Cancellable { card, token }
    }
}

impl Card for Cancellable<'_> {
    fn transmit(&mut self, command: &Command) -> Result<Response, apdu::Error> {
        if self.token.is_cancelled() {
            return Err(apdu::Error::Transport("the read was cancelled".into()));
        }
        self.card.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.card.extended_length()
    }

    fn max_le(&self) -> usize {
        self.card.max_le()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo(usize);

    impl Card for Echo {
        fn transmit(&mut self, _: &Command) -> Result<Response, apdu::Error> {
            self.0 += 1;
            Response::decode(&[0x90, 0x00])
        }
    }

    #[tokio::test]
    async fn a_set_token_stops_the_next_command() {
        let token = CancelToken::new();
        let mut inner = Echo(0);
        let mut card = Cancellable::new(&mut inner, token.clone());
        let select = Command::new(0x00, 0xA4, 0x00, 0x0C);
        assert!(card.transmit(&select).is_ok());
        token.cancel();
        assert!(card.transmit(&select).is_err());
        drop(card);
        assert_eq!(inner.0, 1);
        tokio::time::timeout(std::time::Duration::from_secs(1), token.cancelled())
            .await
            .expect("completes once set");
    }
}
