//! Exit statuses of `cancuoc`, one per failure class a script can act on.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | the read succeeded (and, where verification runs, passed) |
//! | 1 | an internal error or a failure not listed below |
//! | 2 | bad command line |
//! | 3 | wrong access key (CAN or MRZ data) |
//! | 4 | card removed during the read |
//! | 5 | verification failed: the card or its data is forged |
//! | 6 | not verified: no trust anchor for the document signer |
//! | 7 | reader or transport failure |
//! | 8 | the card answered outside the protocol (malformed data, unexpected status) |

use std::process::ExitCode;

/// A failure class and its exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0.
    Ok = 0,
    /// 1.
    Internal = 1,
    /// 2.
    Usage = 2,
    /// 3.
    WrongAccessKey = 3,
    /// 4.
    CardRemoved = 4,
    /// 5.
    Forged = 5,
    /// 6.
    NoTrustAnchor = 6,
    /// 7.
    Transport = 7,
    /// 8.
    CardProtocol = 8,
}

impl Exit {
    /// The class of an error from the card protocols.
    pub fn of(error: &apdu::Error) -> Exit {
        use apdu::Error as E;
        match error {
            E::WrongAccessKey => Exit::WrongAccessKey,
            E::CardRemoved => Exit::CardRemoved,
            E::Transport(_) => Exit::Transport,
            E::AuthenticationFailed(_) => Exit::Forged,
            _ => Exit::CardProtocol,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
