//! ISO/IEC 7816-4 status words, each with its meaning.

/// A status word (SW1-SW2) as the card's answer means it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusWord {
    /// 9000: normal processing.
    Success,
    /// 61xx: more response bytes are waiting for GET RESPONSE (0 means 256).
    BytesRemaining(u8),
    /// 6282: end of file reached before Le bytes were read.
    EndOfFileReached,
    /// 62xx other than 6282: warning, non-volatile memory unchanged.
    WarningUnchanged(u8),
    /// 63Cx: verification failed, x tries left.
    VerificationFailed {
        /// Tries left before the reference data is blocked.
        tries_left: u8,
    },
    /// 6300: authentication failed (PACE: wrong password).
    AuthenticationFailed,
    /// 63xx other than the above: warning, non-volatile memory changed.
    WarningChanged(u8),
    /// 6581: memory failure.
    MemoryFailure,
    /// 6700: wrong length (Lc or Le).
    WrongLength,
    /// 6881: logical channel not supported.
    LogicalChannelNotSupported,
    /// 6882: secure messaging not supported.
    SecureMessagingNotSupported,
    /// 6982: security status not satisfied (e.g. a file needing terminal authentication).
    SecurityStatusNotSatisfied,
    /// 6983: authentication method blocked.
    AuthenticationMethodBlocked,
    /// 6984: reference data not usable.
    ReferenceDataNotUsable,
    /// 6985: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// 6986: command not allowed (no current EF).
    CommandNotAllowed,
    /// 6987: expected secure-messaging data objects missing.
    SmDataObjectsMissing,
    /// 6988: incorrect secure-messaging data objects.
    SmDataObjectsIncorrect,
    /// 6A80: incorrect parameters in the command data field.
    IncorrectData,
    /// 6A81: function not supported.
    FunctionNotSupported,
    /// 6A82: file or application not found.
    FileNotFound,
    /// 6A86: incorrect parameters P1-P2.
    IncorrectP1P2,
    /// 6A88: referenced data not found.
    ReferencedDataNotFound,
    /// 6B00: wrong parameters P1-P2 (offset outside the file).
    WrongParameters,
    /// 6Cxx: wrong Le; xx is the exact length available (0 means 256).
    WrongLe(u8),
    /// 6D00: instruction not supported.
    InsNotSupported,
    /// 6E00: class not supported.
    ClaNotSupported,
    /// 6F00: no precise diagnosis.
    NoPreciseDiagnosis,
    /// Any other value.
    Other(u16),
}

impl StatusWord {
    /// The status word of the two bytes SW1 SW2.
    pub fn new(sw1: u8, sw2: u8) -> StatusWord {
        use StatusWord::*;
        match (sw1, sw2) {
            (0x90, 0x00) => Success,
            (0x61, n) => BytesRemaining(n),
            (0x62, 0x82) => EndOfFileReached,
            (0x62, n) => WarningUnchanged(n),
            (0x63, 0x00) => AuthenticationFailed,
            (0x63, n) if n & 0xF0 == 0xC0 => VerificationFailed {
                tries_left: n & 0x0F,
            },
            (0x63, n) => WarningChanged(n),
            (0x65, 0x81) => MemoryFailure,
            (0x67, 0x00) => WrongLength,
            (0x68, 0x81) => LogicalChannelNotSupported,
            (0x68, 0x82) => SecureMessagingNotSupported,
            (0x69, 0x82) => SecurityStatusNotSatisfied,
            (0x69, 0x83) => AuthenticationMethodBlocked,
            (0x69, 0x84) => ReferenceDataNotUsable,
            (0x69, 0x85) => ConditionsNotSatisfied,
            (0x69, 0x86) => CommandNotAllowed,
            (0x69, 0x87) => SmDataObjectsMissing,
            (0x69, 0x88) => SmDataObjectsIncorrect,
            (0x6A, 0x80) => IncorrectData,
            (0x6A, 0x81) => FunctionNotSupported,
            (0x6A, 0x82) => FileNotFound,
            (0x6A, 0x86) => IncorrectP1P2,
            (0x6A, 0x88) => ReferencedDataNotFound,
            (0x6B, 0x00) => WrongParameters,
            (0x6C, n) => WrongLe(n),
            (0x6D, 0x00) => InsNotSupported,
            (0x6E, 0x00) => ClaNotSupported,
            (0x6F, 0x00) => NoPreciseDiagnosis,
            _ => Other(u16::from_be_bytes([sw1, sw2])),
        }
    }

    /// The status word as a 16-bit number (`0x9000`).
    pub fn to_u16(self) -> u16 {
        use StatusWord::*;
        match self {
            Success => 0x9000,
            BytesRemaining(n) => 0x6100 | u16::from(n),
            EndOfFileReached => 0x6282,
            WarningUnchanged(n) => 0x6200 | u16::from(n),
            VerificationFailed { tries_left } => 0x63C0 | u16::from(tries_left & 0x0F),
            AuthenticationFailed => 0x6300,
            WarningChanged(n) => 0x6300 | u16::from(n),
            MemoryFailure => 0x6581,
            WrongLength => 0x6700,
            LogicalChannelNotSupported => 0x6881,
            SecureMessagingNotSupported => 0x6882,
            SecurityStatusNotSatisfied => 0x6982,
            AuthenticationMethodBlocked => 0x6983,
            ReferenceDataNotUsable => 0x6984,
            ConditionsNotSatisfied => 0x6985,
            CommandNotAllowed => 0x6986,
            SmDataObjectsMissing => 0x6987,
            SmDataObjectsIncorrect => 0x6988,
            IncorrectData => 0x6A80,
            FunctionNotSupported => 0x6A81,
            FileNotFound => 0x6A82,
            IncorrectP1P2 => 0x6A86,
            ReferencedDataNotFound => 0x6A88,
            WrongParameters => 0x6B00,
            WrongLe(n) => 0x6C00 | u16::from(n),
            InsNotSupported => 0x6D00,
            ClaNotSupported => 0x6E00,
            NoPreciseDiagnosis => 0x6F00,
            Other(v) => v,
        }
    }

    /// SW1 and SW2.
    pub fn to_bytes(self) -> [u8; 2] {
        self.to_u16().to_be_bytes()
    }

    /// 9000, or a warning (62xx, 63xx other than an authentication failure) that still
    /// delivers data.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            StatusWord::Success | StatusWord::EndOfFileReached | StatusWord::WarningUnchanged(_)
        )
    }

    /// What the status word means, in words.
    pub fn meaning(self) -> &'static str {
        use StatusWord::*;
        match self {
            Success => "success",
            BytesRemaining(_) => "more response bytes available",
            EndOfFileReached => "end of file reached before Le bytes",
            WarningUnchanged(_) => "warning, memory unchanged",
            VerificationFailed { .. } => "verification failed",
            AuthenticationFailed => "authentication failed",
            WarningChanged(_) => "warning, memory changed",
            MemoryFailure => "memory failure",
            WrongLength => "wrong length",
            LogicalChannelNotSupported => "logical channel not supported",
            SecureMessagingNotSupported => "secure messaging not supported",
            SecurityStatusNotSatisfied => "security status not satisfied",
            AuthenticationMethodBlocked => "authentication method blocked",
            ReferenceDataNotUsable => "reference data not usable",
            ConditionsNotSatisfied => "conditions of use not satisfied",
            CommandNotAllowed => "command not allowed",
            SmDataObjectsMissing => "expected secure messaging data objects missing",
            SmDataObjectsIncorrect => "incorrect secure messaging data objects",
            IncorrectData => "incorrect data field",
            FunctionNotSupported => "function not supported",
            FileNotFound => "file or application not found",
            IncorrectP1P2 => "incorrect parameters P1-P2",
            ReferencedDataNotFound => "referenced data not found",
            WrongParameters => "wrong parameters P1-P2",
            WrongLe(_) => "wrong Le",
            InsNotSupported => "instruction not supported",
            ClaNotSupported => "class not supported",
            NoPreciseDiagnosis => "no precise diagnosis",
            Other(_) => "unknown status",
        }
    }
}

impl core::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:04X} ({})", self.to_u16(), self.meaning())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_word_round_trips() {
        for value in 0..=u16::MAX {
            let [sw1, sw2] = value.to_be_bytes();
            assert_eq!(StatusWord::new(sw1, sw2).to_u16(), value);
        }
    }

    #[test]
    fn explains_itself() {
        assert_eq!(
            StatusWord::new(0x6A, 0x82).to_string(),
            "6A82 (file or application not found)"
        );
        assert_eq!(
            StatusWord::new(0x63, 0xC2),
            StatusWord::VerificationFailed { tries_left: 2 }
        );
    }
}
