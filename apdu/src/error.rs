//! The one error type of the card protocols.

use crate::status::StatusWord;

/// What went wrong talking to a card, in terms a caller can act on.
///
/// Messages name fields and status words, never the bytes of keys or personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Data ended before a field it announced.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// Data does not follow the encoding it must have.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A TLV length points past the end of the data.
    #[error("TLV claims {claimed} bytes but only {available} follow")]
    LengthBeyondBuffer {
        /// The length the object claims.
        claimed: usize,
        /// The bytes actually present.
        available: usize,
    },
    /// An element of a DER structure is not what the structure requires there: `what`
    /// names the element, `reason` the fault (`unexpected tag`, `trailing data`, ...).
    #[error("{what}: {reason}")]
    Element {
        /// The element being read.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A data object the protocol requires is absent.
    #[error("missing data object {0}")]
    MissingDataObject(&'static str),
    /// The card answered with an error status.
    #[error("card answered {0}")]
    Status(StatusWord),
    /// A command cannot be encoded (data or Le out of range).
    #[error("invalid command: {0}")]
    InvalidCommand(&'static str),
    /// The MAC of a secure-messaging response (or command, on the card side) is wrong.
    #[error("secure messaging: MAC does not verify")]
    BadMac,
    /// Secure-messaging padding is not ISO/IEC 9797-1 method 2.
    #[error("secure messaging: bad padding")]
    BadPadding,
    /// The send sequence counter would wrap: the session must be re-established.
    #[error("secure messaging: send sequence counter exhausted")]
    SscExhausted,
    /// The secure channel was closed by an earlier error and cannot be used.
    #[error("secure messaging: channel closed after an earlier error")]
    ChannelClosed,
    /// The card refused the access key: wrong CAN or MRZ data.
    #[error("the card refused the access key (wrong CAN or MRZ data)")]
    WrongAccessKey,
    /// The chip's answer in an authentication protocol does not prove what it must.
    #[error("chip authentication answer does not verify: {0}")]
    AuthenticationFailed(&'static str),
    /// A file is larger than this reader accepts.
    #[error("file of {size} bytes exceeds the limit of {limit} bytes")]
    FileTooLarge {
        /// Size the file claims.
        size: usize,
        /// Largest size accepted.
        limit: usize,
    },
    /// Reading a file took more READ BINARY commands than allowed.
    #[error("file reading exceeded {0} READ BINARY commands")]
    TooManyChunks(usize),
    /// The card was taken away (or powered off) during the exchange.
    #[error("card removed")]
    CardRemoved,
    /// The reader or link failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The card did not answer a command within its deadline; the read cannot go on
    /// (the reader is released and reset).
    #[error("the card did not answer {command} within {waited_ms} ms")]
    NoAnswer {
        /// The command, by name (`GENERAL AUTHENTICATE`, `READ BINARY`, ...).
        command: &'static str,
        /// How long it was given.
        waited_ms: u64,
    },
    /// The card or the request uses something this implementation does not support.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// A cryptographic primitive failed on its input (bad key length, bad point, ...).
    #[error("crypto: {0}")]
    Crypto(&'static str),
}

impl Error {
    /// This error as an [`Error::Element`] naming `what`, so that a fault deep in a
    /// structure says which element it was found in.
    pub fn within(self, what: &'static str) -> Error {
        match self {
            Error::Element { .. } => self,
            other => Error::Element {
                what,
                reason: other.reason(),
            },
        }
    }

    /// The fault without its variable parts, for callers that keep errors as static text.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Truncated(_) => "truncated",
            Error::Malformed(what) => what,
            Error::LengthBeyondBuffer { .. } => "length beyond the end of the data",
            Error::Element { reason, .. } => reason,
            Error::MissingDataObject(_) => "missing data object",
            Error::Unsupported(what) => what,
            _ => "malformed",
        }
    }
}

impl From<StatusWord> for Error {
    fn from(sw: StatusWord) -> Error {
        Error::Status(sw)
    }
}
