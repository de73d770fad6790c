//! How an attack card's chip departs from a genuine one (the profile's `[clone]`).

use apdu::StatusWord;
use apdu::emulator::ChipAttack;
use apdu::security_infos::{Mapping, PaceInfo};

use super::ProfileError;
use super::builder::{Builder, parse_hex};
impl Builder {
    /// The chip misbehaviour of an attack card (`[clone]`), hidden files aside.
    pub(super) fn attack(&self, pace: Option<&PaceInfo>) -> Result<ChipAttack, ProfileError> {
        let Some(c) = &self.file.clone else {
            return Ok(ChipAttack::default());
        };
        let sw = |key: &str, text: &Option<String>| -> Result<Option<StatusWord>, ProfileError> {
            let Some(text) = text else {
                return Ok(None);
            };
            match parse_hex(text).as_deref() {
                Some([sw1, sw2]) => {
                    let sw = StatusWord::new(*sw1, *sw2);
                    if sw.is_success() || matches!(sw, StatusWord::BytesRemaining(_)) {
                        Err(self.invalid(format!("clone.{key}: an error status word")))
                    } else {
                        Ok(Some(sw))
                    }
                }
                _ => Err(self.invalid(format!("clone.{key}: a status word, e.g. \"6A80\""))),
            }
        };
        let wrong_cam_proof = match c.cam_proof.as_deref() {
            None | Some("genuine") => false,
            Some("wrong") => {
                if !pace.is_some_and(|p| p.protocol.mapping == Mapping::ChipAuthentication) {
                    return Err(self.invalid("clone.cam_proof needs PACE with mapping CAM"));
                }
                true
            }
            Some(other) => {
                return Err(self.invalid(format!("clone.cam_proof {other}: genuine or wrong")));
            }
        };
        Ok(ChipAttack {
            refuse_chip_authentication: sw(
                "refuse_chip_authentication",
                &c.refuse_chip_authentication,
            )?,
            refuse_active_authentication: sw(
                "refuse_active_authentication",
                &c.refuse_active_authentication,
            )?,
            hidden_files: Vec::new(),
            wrong_cam_proof,
        })
    }
}
