//! The one thing every transport, the secure channel and the emulator have in common.

use crate::{Command, Error, Response, StatusWord};

/// Most GET RESPONSE rounds followed for one command; a card that keeps answering 61xx
/// beyond this is broken or hostile.
const MAX_GET_RESPONSE_ROUNDS: usize = 256;
/// Most bytes collected over GET RESPONSE rounds for one command.
const MAX_CHAINED_RESPONSE: usize = 1 << 20;
/// GET RESPONSE.
const INS_GET_RESPONSE: u8 = 0xC0;

/// A card that answers one command APDU at a time.
///
/// Implemented by the PC/SC and NFC transports, by [`crate::SecureChannel`] (which wraps
/// another `Card`) and by [`crate::emulator::CardEmulator`].
pub trait Card {
    /// Sends one command and returns the card's answer as it came.
    fn transmit(&mut self, command: &Command) -> Result<Response, Error>;

    /// Whether this card and the link to it carry extended-length APDUs.
    fn extended_length(&self) -> bool {
        false
    }

    /// The largest Ne worth asking for: 256 on a short-length link, 65536 on an extended
    /// one; a secure channel subtracts what its data objects add to each response.
    fn max_le(&self) -> usize {
        if self.extended_length() {
            crate::command::MAX_EXTENDED_NE
        } else {
            crate::command::MAX_SHORT_NE
        }
    }

    /// What the card said about extended length before any command: `Some(true)` when
    /// it announced it (ATR historical bytes), `Some(false)` when it said it has none or
    /// the link cannot carry it, `None` when it did not say (worth one try).
    fn extended_length_announced(&self) -> Option<bool> {
        Some(self.extended_length())
    }

    /// Whether extended length is still to be tried on this link (see [`Link`]).
    fn extended_length_untried(&self) -> bool {
        false
    }

    /// Whether extended length is believed (announced) but no extended command has got
    /// through yet: the reader between host and chip may still refuse it (see [`Link`]).
    fn extended_length_unconfirmed(&self) -> bool {
        false
    }

    /// Records whether extended length works, once tried (see [`Link`]); a card that
    /// does not track it ignores this.
    fn set_extended_length(&mut self, _works: bool) {}

    /// The largest Ne worth asking for if extended length works; a secure channel
    /// subtracts its overhead.
    fn max_le_extended(&self) -> usize {
        crate::command::MAX_EXTENDED_NE
    }

    /// Sends a command that the card or the link may refuse for its length alone (an
    /// extended-length try). A secure channel leaves its counter as it was when the
    /// refusal came before the chip opened the command (see [`crate::SecureChannel`]).
    fn transmit_length_probe(&mut self, command: &Command) -> Result<Response, Error> {
        self.transmit(command)
    }

    /// Sends `command` and follows the T=0 conventions of ISO/IEC 7816-4: on 61xx fetch
    /// the rest with GET RESPONSE, on 6Cxx send the command again with Ne = xx.
    fn exchange(&mut self, command: &Command) -> Result<Response, Error> {
        let mut response = self.transmit(command)?;
        if let StatusWord::WrongLe(n) = response.sw {
            let le = if n == 0 { 256 } else { usize::from(n) };
            let retry = Command {
                le: Some(le),
                ..command.clone()
            };
            response = self.transmit(&retry)?;
        }
        follow_get_response(self, command.cla, response)
    }
}

/// Follows a 61xx answer with GET RESPONSE until the card has sent everything
/// (ISO/IEC 7816-4 §5.3.4) and returns the whole answer with the last status word.
/// `cla` is the class byte of the command answered; GET RESPONSE keeps its logical
/// channel and goes in clear (under secure messaging the protected answer is chained as
/// a whole and unwrapped afterwards). Bounded in rounds and bytes.
pub(crate) fn follow_get_response<C: Card + ?Sized>(
    card: &mut C,
    cla: u8,
    mut response: Response,
) -> Result<Response, Error> {
    let mut data = std::mem::take(&mut response.data);
    let mut rounds = 0;
    while let StatusWord::BytesRemaining(n) = response.sw {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE_ROUNDS {
            return Err(Error::Malformed("endless GET RESPONSE chain"));
        }
        let le = if n == 0 { 256 } else { usize::from(n) };
        let get_response = Command::new(cla & 0x03, INS_GET_RESPONSE, 0, 0).with_le(le);
        response = card.transmit(&get_response)?;
        if data.len().saturating_add(response.data.len()) > MAX_CHAINED_RESPONSE {
            return Err(Error::Malformed("GET RESPONSE chain too long"));
        }
        data.append(&mut response.data);
    }
    response.data = data;
    Ok(response)
}

/// `Card` for pointers to a card: every method forwarded, so a new method of the trait
/// is forwarded for `&mut C` and `Box<C>` alike (a default left in place would silently
/// drop a wrapped card's answer).
macro_rules! forward_card {
    ($($pointer:ty),+) => {$(
        impl<C: Card + ?Sized> Card for $pointer {
            fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
                (**self).transmit(command)
            }

            fn extended_length(&self) -> bool {
                (**self).extended_length()
            }

            fn max_le(&self) -> usize {
                (**self).max_le()
            }

            fn extended_length_announced(&self) -> Option<bool> {
                (**self).extended_length_announced()
            }

            fn extended_length_untried(&self) -> bool {
                (**self).extended_length_untried()
            }

            fn extended_length_unconfirmed(&self) -> bool {
                (**self).extended_length_unconfirmed()
            }

            fn set_extended_length(&mut self, works: bool) {
                (**self).set_extended_length(works)
            }

            fn max_le_extended(&self) -> usize {
                (**self).max_le_extended()
            }

            fn transmit_length_probe(&mut self, command: &Command) -> Result<Response, Error> {
                (**self).transmit_length_probe(command)
            }
        }
    )+};
}

forward_card!(&mut C, Box<C>);

/// A card with what this session learned about its link: whether extended-length APDUs
/// get through. It starts from what the card announced
/// ([`Card::extended_length_announced`]); when the card did not say, the file reader
/// tries once and records the answer here, for the rest of the session. A chip that
/// announces extended length may sit behind a reader that cannot carry it, so the
/// first extended command is sent as a try all the same, and a refusal turns extended
/// length off.
#[derive(Debug)]
pub struct Link<C: Card> {
    card: C,
    extended: Option<bool>,
    /// An extended command got through in this session.
    confirmed: bool,
}

impl<C: Card> Link<C> {
    /// `card`, with extended length as it announced it.
    pub fn new(card: C) -> Link<C> {
        let extended = card.extended_length_announced();
        Link {
            card,
            extended,
            confirmed: false,
        }
    }

    /// What is known: `None` while untried.
    pub fn extended(&self) -> Option<bool> {
        self.extended
    }

    /// The card underneath.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }
}

impl<C: Card> Card for Link<C> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        self.card.transmit(command)
    }

    fn extended_length(&self) -> bool {
        self.extended == Some(true)
    }

    fn extended_length_announced(&self) -> Option<bool> {
        self.extended
    }

    fn extended_length_untried(&self) -> bool {
        self.extended.is_none()
    }

    fn extended_length_unconfirmed(&self) -> bool {
        self.extended == Some(true) && !self.confirmed
    }

    fn set_extended_length(&mut self, works: bool) {
        self.extended = Some(works);
        self.confirmed = works;
    }

    fn transmit_length_probe(&mut self, command: &Command) -> Result<Response, Error> {
        self.card.transmit(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers 6C10 to the first command, then 6108 + 8 bytes, then 8 more bytes.
    struct T0Card {
        sent: Vec<Command>,
    }

    impl Card for T0Card {
        fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
            self.sent.push(command.clone());
            Ok(match self.sent.len() {
                1 => Response::status(StatusWord::WrongLe(0x10)),
                2 => Response::new(vec![1; 8], StatusWord::BytesRemaining(8)),
                _ => Response::new(vec![2; 8], StatusWord::Success),
            })
        }
    }

    #[test]
    fn wrong_le_then_get_response() {
        let mut card = T0Card { sent: Vec::new() };
        let response = card
            .exchange(&Command::new(0, 0xB0, 0, 0).with_le(256))
            .unwrap();
        assert_eq!(response.data, [[1u8; 8], [2u8; 8]].concat());
        assert_eq!(card.sent[1].le, Some(16));
        assert_eq!(card.sent[2].encode().unwrap(), vec![0, 0xC0, 0, 0, 8]);
    }

    struct EndlessCard;

    impl Card for EndlessCard {
        fn transmit(&mut self, _: &Command) -> Result<Response, Error> {
            Ok(Response::new(vec![0; 255], StatusWord::BytesRemaining(0)))
        }
    }

    #[test]
    fn an_endless_get_response_chain_stops() {
        assert!(EndlessCard.exchange(&Command::new(0, 0xB0, 0, 0)).is_err());
    }
}
