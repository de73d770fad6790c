//! Access control as a reader meets it: read EF.CardAccess, run PACE with the strongest
//! protocol the chip offers, and use BAC when the chip offers no PACE and the MRZ data is
//! at hand. A chip that offers PACE and fails it is not silently read over BAC: that
//! fallback happens only when the caller allows it, and [`Opened::Bac`] says it
//! happened. A wrong key is reported at once, never retried in a loop.

use rand_core::CryptoRng;

use crate::mrz::MrzKey;
use crate::pace::{self, Can, PaceOutcome, Password};
use crate::read_binary::{self, FileReader, ReadLimits};
use crate::security_infos::SecurityInfos;
use crate::{Card, Error, SecureChannel, StatusWord, bac};

/// File identifier of EF.CardAccess in the master file.
pub const EF_CARD_ACCESS: u16 = 0x011C;
/// EF.CardAccess is small; a larger one is refused.
const MAX_CARD_ACCESS: usize = 4096;

/// What the holder gives to open the chip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessKey {
    /// The card access number (PACE only).
    Can(Can),
    /// The MRZ information (PACE, or BAC when the chip has no PACE).
    Mrz(MrzKey),
}

/// How the chip was opened.
#[derive(Clone, Debug)]
pub enum Opened {
    /// PACE, with its details.
    Pace(PaceOutcome),
    /// Basic access control.
    Bac {
        /// Why PACE was not used although EF.CardAccess offers it (the caller allowed
        /// the fallback); `None` when the chip offers no PACE.
        fallback_from: Option<Error>,
    },
}

impl Opened {
    /// The access method for the result: `PACE-ECDH-GM-AES-128 brainpoolP256r1` or `BAC`.
    pub fn describe(&self) -> String {
        match self {
            Opened::Pace(p) => format!("{} {}", p.protocol.name(), p.group),
            Opened::Bac { .. } => "BAC".to_owned(),
        }
    }
}

/// What the caller allows when opening a chip.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessOptions {
    /// Use BAC when the chip offers PACE but PACE cannot be run or fails for a reason
    /// other than a wrong key. Off by default: BAC is the weaker protocol, and a chip
    /// that lists PACE and then fails it may be a downgrade in progress.
    pub allow_bac_fallback: bool,
}

/// A chip opened by [`open`].
#[derive(Debug)]
pub struct OpenChip<'c, C: Card> {
    /// The secure channel to it.
    pub channel: SecureChannel<&'c mut C>,
    /// How it was opened.
    pub opened: Opened,
    /// EF.CardAccess as read, when the chip has one.
    pub card_access: Option<Vec<u8>>,
}

/// Reads EF.CardAccess from the master file; `None` when the chip has none (a BAC-only
/// chip). Chips that answer SELECT MF with 6D00 are read by selecting the file directly.
pub(crate) fn read_card_access(
    card: &mut impl Card,
) -> Result<Option<(Vec<u8>, SecurityInfos)>, Error> {
    match read_binary::select_master_file(card) {
        Ok(()) => {}
        // The Vietnamese CCCD does not know SELECT MF; the MF is current after reset.
        Err(Error::Status(StatusWord::InsNotSupported | StatusWord::FileNotFound)) => {
            tracing::debug!("SELECT MF refused; selecting EF.CardAccess directly");
        }
        Err(e) => return Err(e),
    }
    let mut reader = FileReader::new(ReadLimits {
        max_file_size: MAX_CARD_ACCESS,
        ..ReadLimits::default()
    });
    let bytes = match reader.read_file(card, EF_CARD_ACCESS) {
        Ok(bytes) => bytes,
        Err(Error::Status(StatusWord::FileNotFound | StatusWord::SecurityStatusNotSatisfied)) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let infos = SecurityInfos::parse(&bytes)?;
    Ok(Some((bytes, infos)))
}

/// Opens the chip with the default [`AccessOptions`] (no BAC fallback); see [`open_with`].
pub fn open<'c, C: Card>(
    card: &'c mut C,
    key: &AccessKey,
    rng: &mut impl CryptoRng,
) -> Result<OpenChip<'c, C>, Error> {
    open_with(card, key, AccessOptions::default(), rng)
}

/// Opens the chip: PACE when EF.CardAccess offers it, else BAC with MRZ data; returns
/// the channel, how it was opened, and EF.CardAccess as read (for the record).
///
/// When the chip offers PACE and it cannot be run or fails for any reason but a wrong
/// key, the PACE error is returned, unless `options` allow the BAC fallback and MRZ data
/// was given (some chips list PACE and fail it). A wrong key is final.
pub fn open_with<'c, C: Card>(
    card: &'c mut C,
    key: &AccessKey,
    options: AccessOptions,
    rng: &mut impl CryptoRng,
) -> Result<OpenChip<'c, C>, Error> {
    let card_access = read_card_access(card)?;
    let mut pace_error = None;
    if let Some((bytes, infos)) = &card_access {
        let offered = infos.pace();
        if !offered.is_empty() {
            pace_error = Some(Error::Unsupported(
                "the chip offers PACE only with domain parameters this reader cannot use",
            ));
        }
        // The strongest protocol this implementation can run: a chip may also list one
        // with proprietary domain parameters.
        if let Some(info) = offered.iter().find(|i| pace::group_of(i).is_ok()) {
            let password = match key {
                AccessKey::Can(can) => Password::Can(can.clone()),
                AccessKey::Mrz(mrz) => Password::Mrz(mrz.clone()),
            };
            match pace::open(&mut *card, info, &password, rng) {
                Ok((channel, outcome)) => {
                    // Re-wrap on the caller's borrow: same session, same card.
                    let session = channel.into_session();
                    return Ok(OpenChip {
                        channel: SecureChannel::new(card, session),
                        opened: Opened::Pace(outcome),
                        card_access: Some(bytes.clone()),
                    });
                }
                Err(Error::WrongAccessKey) => return Err(Error::WrongAccessKey),
                // The card, not PACE, failed: no fallback can run either.
                Err(e @ (Error::CardRemoved | Error::NoAnswer { .. } | Error::Transport(_))) => {
                    return Err(e);
                }
                Err(e) => {
                    tracing::debug!(error = %e, "PACE failed");
                    pace_error = Some(e);
                }
            }
        }
    }
    if let Some(e) = &pace_error
        && !options.allow_bac_fallback
    {
        return Err(e.clone());
    }
    match key {
        AccessKey::Mrz(mrz) => {
            read_binary::select_application(card, &read_binary::ICAO_AID)?;
            let channel = bac::open(card, mrz, rng)?;
            Ok(OpenChip {
                channel,
                opened: Opened::Bac {
                    fallback_from: pace_error,
                },
                card_access: card_access.map(|(b, _)| b),
            })
        }
        AccessKey::Can(_) => Err(pace_error.unwrap_or(Error::Unsupported(
            "the chip offers no PACE, and BAC needs the MRZ data",
        ))),
    }
}
