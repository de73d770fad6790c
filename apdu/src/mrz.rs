//! The pieces of the machine-readable zone that key the card: check digits and the
//! "MRZ information" of ICAO 9303-11 §9.7.2 (document number, birth date, expiry date).

use zeroize::Zeroizing;

use crate::Error;

/// The ICAO 9303-3 §4.9 check digit of `field`, or `None` if it holds a character outside
/// `0-9`, `A-Z` and `<`.
///
/// ```
/// assert_eq!(apdu::mrz::check_digit("L898902C<"), Some(b'3'));
/// assert_eq!(apdu::mrz::check_digit("690806"), Some(b'1'));
/// ```
pub fn check_digit(field: &str) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, c) in field.bytes().enumerate() {
        let value = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += value * WEIGHTS[i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

/// The MRZ information that seeds BAC keys and the PACE MRZ password: document number,
/// date of birth and date of expiry, each followed by its check digit.
///
/// Held in zeroizing memory and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MrzKey(Zeroizing<String>);

impl core::fmt::Debug for MrzKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MrzKey([redacted])")
    }
}

impl MrzKey {
    /// Builds the MRZ information from its three fields. A document number shorter than
    /// nine characters is padded with `<`; a longer one (TD1 long numbers) is used whole,
    /// as ICAO 9303-11 §9.7.2 prescribes. Dates are `YYMMDD`.
    ///
    /// ```
    /// let key = apdu::mrz::MrzKey::new("L898902C", "690806", "940623")?;
    /// assert_eq!(key.as_str(), "L898902C<369080619406236");
    /// # Ok::<(), apdu::Error>(())
    /// ```
    pub fn new(document_number: &str, birth: &str, expiry: &str) -> Result<MrzKey, Error> {
        let mut number = Zeroizing::new(document_number.trim().to_ascii_uppercase());
        if number.is_empty() || number.len() > 22 {
            return Err(Error::InvalidCommand(
                "document number must have 1 to 22 characters",
            ));
        }
        while number.len() < 9 {
            number.push('<');
        }
        for date in [birth, expiry] {
            if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::InvalidCommand("dates must be YYMMDD"));
            }
        }
        let mut info = Zeroizing::new(String::with_capacity(number.len() + 15));
        for field in [number.as_str(), birth, expiry] {
            let digit = check_digit(field).ok_or(Error::InvalidCommand(
                "document number holds characters outside the MRZ set",
            ))?;
            info.push_str(field);
            info.push(char::from(digit));
        }
        Ok(MrzKey(info))
    }

    /// The MRZ information string (document number, birth, expiry, with check digits).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_reject_characters_outside_the_mrz_set() {
        assert_eq!(check_digit("a"), None);
        assert_eq!(check_digit(""), Some(b'0'));
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let key = MrzKey::new("L898902C", "690806", "940623").unwrap();
        assert_eq!(format!("{key:?}"), "MrzKey([redacted])");
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(MrzKey::new("", "690806", "940623").is_err());
        assert!(MrzKey::new("L898902C", "69086", "940623").is_err());
        assert!(MrzKey::new("L89890é", "690806", "940623").is_err());
    }
}
