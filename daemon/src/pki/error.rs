//! Why some bytes are not the certificate, CMS or LDS structure that was expected.

use std::fmt;

/// What was being read and what was wrong with it (`certificate: unexpected tag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError {
    /// What was being read.
    pub context: &'static str,
    /// What went wrong.
    pub reason: &'static str,
}

impl DerError {
    pub(crate) const fn new(context: &'static str, reason: &'static str) -> Self {
        DerError { context, reason }
    }
}

impl From<apdu::Error> for DerError {
    fn from(e: apdu::Error) -> Self {
        match e {
            apdu::Error::Element { what, reason } => DerError::new(what, reason),
            other => DerError::new("DER", other.reason()),
        }
    }
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.reason)
    }
}

impl std::error::Error for DerError {}
