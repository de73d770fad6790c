//! The answer to reset (ISO/IEC 7816-3 §8.2, 7816-4 §8.1.1): what the card says about
//! itself before the first APDU — protocols, historical bytes, and whether it takes
//! extended-length APDUs.
//!
//! Contactless cards get an ATR built by the reader (PC/SC part 3: `3B 8n 80 01 …` with
//! the ATS historical bytes), which this parses the same way.

/// A parsed ATR.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Atr {
    /// Transmission protocols offered (T=0, T=1, T=15 for global bytes).
    pub protocols: Vec<u8>,
    /// The historical bytes.
    pub historical: Vec<u8>,
    /// Whether the check byte TCK was present and right (`None` when none is required).
    pub checksum_ok: Option<bool>,
    /// Card capabilities from the historical bytes (compact-TLV tag 7), if given.
    pub capabilities: Option<[u8; 3]>,
    /// Whether the ATR has the shape a PC/SC reader builds for a contactless card.
    pub contactless: bool,
}

/// Why an ATR does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AtrError {
    /// Shorter than its own structure says.
    #[error("ATR truncated")]
    Truncated,
    /// TS is neither 3B (direct) nor 3F (inverse convention).
    #[error("ATR does not start with 3B or 3F")]
    BadTs,
    /// Longer than the 33 bytes ISO 7816-3 allows.
    #[error("ATR longer than 33 bytes")]
    TooLong,
}

/// The most bytes an ATR has (TS + 32).
pub const MAX_ATR_LEN: usize = 33;

impl Atr {
    /// Parses an ATR.
    pub fn parse(bytes: &[u8]) -> Result<Atr, AtrError> {
        if bytes.len() > MAX_ATR_LEN {
            return Err(AtrError::TooLong);
        }
        let mut it = bytes.iter().copied();
        let ts = it.next().ok_or(AtrError::Truncated)?;
        if ts != 0x3B && ts != 0x3F {
            return Err(AtrError::BadTs);
        }
        let t0 = it.next().ok_or(AtrError::Truncated)?;
        let historical_len = usize::from(t0 & 0x0F);
        let mut y = t0 >> 4;
        let mut protocols = Vec::new();
        // Interface bytes: each Y nibble says which of TA, TB, TC, TD follow.
        loop {
            for bit in [0x1, 0x2, 0x4] {
                if y & bit != 0 {
                    it.next().ok_or(AtrError::Truncated)?;
                }
            }
            if y & 0x8 == 0 {
                break;
            }
            let td = it.next().ok_or(AtrError::Truncated)?;
            let protocol = td & 0x0F;
            if !protocols.contains(&protocol) {
                protocols.push(protocol);
            }
            y = td >> 4;
        }
        let historical: Vec<u8> = it.by_ref().take(historical_len).collect();
        if historical.len() < historical_len {
            return Err(AtrError::Truncated);
        }
        // TCK is present when any protocol other than T=0 is indicated.
        let needs_tck = protocols.iter().any(|p| *p != 0);
        let checksum_ok = if needs_tck {
            it.next().ok_or(AtrError::Truncated)?;
            let xor = bytes.iter().skip(1).fold(0u8, |acc, b| acc ^ b);
            Some(xor == 0)
        } else {
            None
        };
        if protocols.is_empty() {
            protocols.push(0);
        }
        let capabilities = card_capabilities(&historical);
        let contactless = t0 & 0xF0 == 0x80 && bytes.get(2..4) == Some(&[0x80, 0x01]);
        Ok(Atr {
            protocols,
            historical,
            checksum_ok,
            capabilities,
            contactless,
        })
    }

    /// Whether the card says it takes extended Lc and Le (card capabilities, third
    /// software function table, bit b7).
    pub fn extended_length(&self) -> bool {
        self.capabilities.is_some_and(|c| c[2] & 0x40 != 0)
    }

    /// What the card says about extended length: `Some` when its historical bytes hold
    /// a card-capabilities object, `None` when they do not say (a generic contactless
    /// ATR); then the reader tries it once.
    pub fn extended_length_announced(&self) -> Option<bool> {
        self.capabilities.map(|c| c[2] & 0x40 != 0)
    }

    /// Whether the ATR is one a PC/SC reader builds for a contactless card.
    pub fn is_contactless(&self) -> bool {
        self.protocols.contains(&1) && self.protocols.contains(&15) && self.historical.len() <= 15
    }
}

/// The card-capabilities object (compact-TLV tag 7) of category-80 historical bytes.
fn card_capabilities(historical: &[u8]) -> Option<[u8; 3]> {
    let (category, mut rest) = historical.split_first()?;
    if *category != 0x80 {
        return None;
    }
    while let Some((header, tail)) = rest.split_first() {
        let tag = header >> 4;
        let len = usize::from(header & 0x0F);
        let value = tail.get(..len)?;
        if tag == 7 && len >= 3 {
            return Some([value[0], value[1], value[2]]);
        }
        rest = tail.get(len..)?;
    }
    None
}

/// Builds the ATR a PC/SC reader reports for a contactless card with these historical
/// bytes (PC/SC part 3 §3.1.3.2.3): `3B 8n 80 01 <historical> TCK`; `None` for more
/// than 15 historical bytes.
pub fn contactless_atr(historical: &[u8]) -> Option<Vec<u8>> {
    let n = u8::try_from(historical.len()).ok().filter(|n| *n <= 15)?;
    let mut atr = vec![0x3B, 0x80 | n, 0x80, 0x01];
    atr.extend_from_slice(historical);
    // TCK makes the XOR of T0..TCK zero.
    let tck = atr.iter().skip(1).fold(0u8, |acc, b| acc ^ b);
    atr.push(tck);
    Some(atr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contactless_atr_round_trips() {
        // Category 80, card capabilities 73 with extended length (byte 3 bit 7 set).
        let historical = [0x80, 0x73, 0x00, 0x00, 0x40];
        let bytes = contactless_atr(&historical).unwrap();
        let atr = Atr::parse(&bytes).unwrap();
        assert_eq!(atr.historical, historical);
        assert_eq!(atr.checksum_ok, Some(true));
        assert!(atr.extended_length());
        assert!(atr.contactless);
        assert_eq!(atr.protocols, vec![0, 1]);
    }

    #[test]
    fn a_contact_atr_with_t1() {
        // A typical T=1 card: 3B DB 96 00 80 B1 FE 45 1F 83 00 31 C0 64 C7 FC 10 00 01 90 00 74
        let bytes = [
            0x3B, 0xDB, 0x96, 0x00, 0x80, 0xB1, 0xFE, 0x45, 0x1F, 0x83, 0x00, 0x31, 0xC0, 0x64,
            0xC7, 0xFC, 0x10, 0x00, 0x01, 0x90, 0x00, 0x74,
        ];
        let atr = Atr::parse(&bytes).unwrap();
        assert_eq!(atr.historical.len(), 11);
        assert!(atr.protocols.contains(&1));
        assert_eq!(atr.checksum_ok, Some(true));
    }

    #[test]
    fn hostile_atrs() {
        assert_eq!(Atr::parse(&[]), Err(AtrError::Truncated));
        assert_eq!(Atr::parse(&[0x3B]), Err(AtrError::Truncated));
        assert_eq!(Atr::parse(&[0x12, 0x00]), Err(AtrError::BadTs));
        assert_eq!(Atr::parse(&[0x3B, 0x8F, 0x80]), Err(AtrError::Truncated));
        assert_eq!(Atr::parse(&[0x3B; 40]), Err(AtrError::TooLong));
        // Endless TD chain is bounded by the input length.
        assert!(Atr::parse(&[0x3B, 0x80, 0x80, 0x80, 0x80]).is_err());
        let mut bad = contactless_atr(&[0x80, 0x73, 0x00, 0x00, 0x40]).unwrap();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(Atr::parse(&bad).unwrap().checksum_ok, Some(false));
    }
}
