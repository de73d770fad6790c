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
//! | 6 | not verified: no trust anchor for the document signer, a CSCA of another country than the document's, a required chip proof that could not be judged, PACE bypassed, or no chip proof where one is required (the result's problems say which) |
//! | 7 | reader or transport failure, or the reader busy: another program holds it (an exclusive PC/SC connection or transaction) |
//! | 8 | the card answered outside the protocol (malformed data, unexpected status) |
//! | 9 | the daemon refused: this user may not use its socket, or its policy forbids the request |
//!
//! A failed read or request exits with the status of its [`Failure`] class
//! ([`Exit::of`]); a finished verification with that of its verdict
//! ([`Exit::of_verdict`]), for `read` and `verify` alike. A chip whose answer in an
//! authentication protocol does not verify is 5 in a direct read; the daemon answers it
//! as `card-error`, 8.
//!
//! Through the daemon (`cancuoc read` and `readers` when its socket exists) the same
//! classes hold; its error codes map as: `wrong-access-key` 3, `card-removed` 4,
//! `reader-error` 7, `card-error` 8, `bad-request` 2, `forbidden` 9, `internal` and codes
//! this version does not know 1. `busy`, `throttled` and `cancelled` are 7: the reader
//! could not serve this read now, and trying again later may work. A daemon that cannot
//! be reached, stops answering or closes the connection is 7 too (it is the transport);
//! an answer that is not the protocol's is 1. An answer without a verdict (the daemon's
//! policy withheld it) is 6, not verified.

use std::process::ExitCode;

use crate::api::cmd::Code;
use crate::failure::Failure;
use crate::session::result::Verdict;

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
    NotVerified = 6,
    /// 7.
    Transport = 7,
    /// 8.
    CardProtocol = 8,
    /// 9.
    Forbidden = 9,
}

impl Exit {
    /// The exit status of a failure class.
    pub fn of(failure: Failure) -> Exit {
        match failure {
            Failure::BadRequest => Exit::Usage,
            Failure::Forbidden => Exit::Forbidden,
            Failure::WrongAccessKey => Exit::WrongAccessKey,
            Failure::CardRemoved => Exit::CardRemoved,
            Failure::Throttled | Failure::Busy | Failure::Cancelled | Failure::Transport => {
                Exit::Transport
            }
            Failure::CardProtocol => Exit::CardProtocol,
            Failure::ChipNotAuthentic => Exit::Forged,
            Failure::Internal => Exit::Internal,
        }
    }

    /// The exit status of an error code of the daemon's socket API (docs/api.md): that
    /// of the class the code stands for; a code this version does not know is internal.
    pub fn of_api_code(code: &str) -> Exit {
        Exit::of(Code::failure_of(code))
    }

    /// The exit status of a failed request to the daemon.
    pub fn of_client(error: &crate::client::ClientError) -> Exit {
        Exit::of(error.failure())
    }

    /// The exit status of a finished verification: genuine is success, forged is
    /// forged, anything else (or no verdict at all) is not verified.
    pub fn of_verdict(verdict: Option<Verdict>) -> Exit {
        match verdict {
            Some(Verdict::Genuine) => Exit::Ok,
            Some(Verdict::Forged) => Exit::Forged,
            Some(Verdict::NotVerified) | None => Exit::NotVerified,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
