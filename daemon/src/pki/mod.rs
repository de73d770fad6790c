//! PKI primitives: the BER of CMS, PEM, object identifiers, times, X.509 certificates and CRLs,
//! signature algorithms (RSA PKCS#1 v1.5 and PSS, ECDSA on named and explicit-parameter
//! curves), CMS SignedData and ICAO CSCA master lists.
//!
//! Nothing here knows about cards or documents: the LDS (`lds`) and passive
//! authentication (`trust`) build on it.
//!
//! Everything here parses hostile input: lengths are bounded before allocation and
//! nothing panics; errors say what was wrong.

pub mod algorithm;
pub mod ber;
pub mod certificate;
pub mod cms;
pub mod crl;
mod error;
pub mod key;
pub mod master_list;
pub mod oid;
pub mod pem;
pub mod signature;
pub mod time;

pub use certificate::Certificate;
pub use crl::Crl;
pub use error::DerError;
pub use master_list::MasterList;
pub use time::Time;

#[cfg(test)]
pub(crate) mod tests;
