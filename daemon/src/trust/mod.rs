//! Passive authentication and the trust store: CMS SignedData, X.509 certificates and
//! CRLs, ICAO CSCA master lists, signature algorithms (RSA PKCS#1 v1.5 and PSS, ECDSA
//! on named and explicit-parameter curves).
//!
//! Everything here parses hostile input: lengths are bounded before allocation and
//! nothing panics; errors say what was wrong.

pub mod certificate;
pub mod cms;
pub mod country;
pub mod crl;
pub mod der;
pub mod inspect;
pub mod issue;
pub mod master_list;
pub mod oid;
pub mod passive;
pub mod pem;
pub mod signature;
pub mod store;
pub mod test_pki;
pub mod time;

pub use certificate::Certificate;
pub use crl::Crl;
pub use master_list::MasterList;
pub use passive::{
    CardSecurityResult, PassiveResult, PassiveStatus, Problem, ProblemCode,
    verify as verify_passive, verify_card_security,
};
pub use store::TrustStore;
pub use time::Time;

#[cfg(test)]
mod chain_tests;
#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
pub(crate) mod tests;
