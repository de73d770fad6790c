//! Why a read or a request failed, as one of the classes a caller can act on.
//!
//! Every error that ends a read without a result is classified here once: the card's
//! ([`apdu::Error`], through [`Failure::of_card`]), the read's
//! ([`crate::session::ReadError::failure`]), the reader manager's
//! ([`crate::readers::ReadFailure::failure`]) and the daemon client's
//! ([`crate::client::ClientError::failure`]). The socket API's error code
//! (`api::cmd::Code::of`) and the command line's exit status (`cli::exit::Exit::of`)
//! are each derived from the class in one place.

/// A failure class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Failure {
    /// The request or command line is not valid (framing, JSON, parameters, field
    /// names, access data).
    BadRequest,
    /// The caller may not do this: no client rule matches, a field or a policy it may
    /// not have, or the socket refused it.
    Forbidden,
    /// The card refused the access key (wrong CAN or MRZ data).
    WrongAccessKey,
    /// Too many wrong access keys: trying again later may work.
    Throttled,
    /// No card in the reader, or the card went away during the read.
    CardRemoved,
    /// The reader is busy: a read under way on it, or another program holds it.
    Busy,
    /// The read was cancelled (by the client, or the daemon stopping).
    Cancelled,
    /// The reader or the link to it failed: PC/SC, libnfc, a transmission error, an
    /// unknown reader, or the daemon's socket.
    Transport,
    /// The card answered outside the protocols, a mandatory file did not decode, or
    /// the card did not answer within its deadline.
    CardProtocol,
    /// The chip's answer in an authentication protocol does not prove what it must:
    /// the chip is not the one the access key belongs to. The socket API reports it as
    /// a card error; the command line counts it forged.
    ChipNotAuthentic,
    /// The program failed, or an answer or code this version does not know.
    Internal,
}

impl Failure {
    /// Every class. Where two classes share an API code, the first one is what a
    /// client makes of that code.
    pub const ALL: [Failure; 11] = [
        Failure::BadRequest,
        Failure::Forbidden,
        Failure::WrongAccessKey,
        Failure::Throttled,
        Failure::CardRemoved,
        Failure::Busy,
        Failure::Cancelled,
        Failure::Transport,
        Failure::CardProtocol,
        Failure::ChipNotAuthentic,
        Failure::Internal,
    ];

    /// The class of an error from the card protocols.
    pub fn of_card(error: &apdu::Error) -> Failure {
        use apdu::Error as E;
        match error {
            E::WrongAccessKey => Failure::WrongAccessKey,
            E::CardRemoved => Failure::CardRemoved,
            E::Transport(_) => Failure::Transport,
            E::AuthenticationFailed(_) => Failure::ChipNotAuthentic,
            // Malformed data, an unexpected status word, a broken secure channel, a
            // file too large, a card that stopped answering.
            _ => Failure::CardProtocol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::cmd::Code;
    use crate::cli::exit::Exit;

    /// The documented pairs: the API code (docs/api.md, DESIGN) and the exit status
    /// (the table in `cli::exit`) of every class.
    const TABLE: [(Failure, &str, u8); 11] = [
        (Failure::BadRequest, "bad-request", 2),
        (Failure::Forbidden, "forbidden", 9),
        (Failure::WrongAccessKey, "wrong-access-key", 3),
        (Failure::Throttled, "throttled", 7),
        (Failure::CardRemoved, "card-removed", 4),
        (Failure::Busy, "busy", 7),
        (Failure::Cancelled, "cancelled", 7),
        (Failure::Transport, "reader-error", 7),
        (Failure::CardProtocol, "card-error", 8),
        (Failure::ChipNotAuthentic, "card-error", 5),
        (Failure::Internal, "internal", 1),
    ];

    #[test]
    fn every_class_has_its_documented_code_and_exit_status() {
        assert_eq!(
            TABLE.map(|row| row.0),
            Failure::ALL,
            "the table lists every class"
        );
        for (failure, code, exit) in TABLE {
            assert_eq!(Code::of(failure).as_str(), code, "{failure:?}");
            assert_eq!(Exit::of(failure) as u8, exit, "{failure:?}");
        }
    }

    /// The codes of docs/api.md's table are the API's codes, and the exit status
    /// `cli::exit`'s documentation gives each code is the one it exits with.
    #[test]
    fn the_documented_codes_and_their_exit_statuses_hold() {
        let api = include_str!("../../docs/api.md");
        let table = api
            .split("## Error codes")
            .nth(1)
            .expect("docs/api.md has a section 'Error codes'");
        let documented: Vec<&str> = table
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        let mut codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = documented.clone();
        sorted.sort_unstable();
        codes.sort_unstable();
        assert_eq!(sorted, codes, "docs/api.md lists every code once");

        let exit_doc = include_str!("cli/exit.rs");
        let mapping = exit_doc
            .split("its error codes map as:")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .expect("cli/exit.rs says how the daemon's codes map");
        for code in Code::ALL {
            let quoted = format!("`{}`", code.as_str());
            let after = mapping
                .split(quoted.as_str())
                .nth(1)
                .unwrap_or_else(|| panic!("cli/exit.rs does not map {quoted}"));
            let status = after
                .chars()
                .find(char::is_ascii_digit)
                .and_then(|c| c.to_digit(10));
            assert_eq!(
                status,
                Some(u32::from(Exit::of_api_code(code.as_str()) as u8)),
                "{quoted}"
            );
        }
    }

    #[test]
    fn a_code_from_the_daemon_exits_as_its_class() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(code));
            assert_eq!(Code::of(code.failure()), code, "{code:?}");
        }
        for (failure, code, exit) in TABLE {
            let expected = match failure {
                // Through the daemon, a chip that fails its proof is a card error.
                Failure::ChipNotAuthentic => 8,
                _ => exit,
            };
            assert_eq!(Exit::of_api_code(code) as u8, expected, "{code}");
        }
        assert_eq!(
            Exit::of_api_code("a-code-of-a-later-version"),
            Exit::Internal
        );
    }

    #[test]
    fn card_errors_classify() {
        use apdu::Error as E;
        for (error, failure) in [
            (E::WrongAccessKey, Failure::WrongAccessKey),
            (E::CardRemoved, Failure::CardRemoved),
            (E::Transport("gone".into()), Failure::Transport),
            (E::AuthenticationFailed("token"), Failure::ChipNotAuthentic),
            (E::BadMac, Failure::CardProtocol),
            (
                E::NoAnswer {
                    command: "READ BINARY",
                    waited_ms: 5000,
                },
                Failure::CardProtocol,
            ),
        ] {
            assert_eq!(Failure::of_card(&error), failure, "{error}");
        }
    }
}
