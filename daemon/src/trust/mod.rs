//! Passive authentication and the trust store: EF.SOD and EF.CardSecurity checked
//! against trust anchors (CSCA certificates, master lists, CRLs), the certificate chain
//! rules, the country rules, and inspection of trust files. The PKI primitives they use
//! are in [`crate::pki`].
//!
//! Everything here parses hostile input: lengths are bounded before allocation and
//! nothing panics; errors say what was wrong.

pub mod country;
pub mod inspect;
pub mod passive;
pub mod store;
pub mod test_anchors;

pub use passive::{
    CardSecurityResult, PassiveResult, PassiveStatus, Problem, ProblemCode,
    verify as verify_passive, verify_card_security,
};
pub use store::TrustStore;

#[cfg(test)]
mod chain_tests;
#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
pub(crate) mod tests;
