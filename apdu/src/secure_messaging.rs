//! Secure messaging (ICAO 9303-11 §9.8, ISO/IEC 7816-4 §10): data objects '85'/'87'
//! (cryptogram), '97' (Le), '99' (status), '8E' (MAC) under a send sequence counter.
//!
//! [`SmSession`] holds the keys and the counter and does both sides of the exchange
//! without I/O; [`SecureChannel`] puts it around any [`Card`].

use crate::crypto::{self, CipherSuite, SecretKey};
use crate::tlv::{self, Tag, TlvIter};
use crate::{Card, Command, Error, Response, StatusWord};

const DO_CRYPTOGRAM_ODD: u8 = 0x85;
const DO_CRYPTOGRAM: u8 = 0x87;
const DO_LE: u8 = 0x97;
const DO_STATUS: u8 = 0x99;
const DO_MAC: u8 = 0x8E;
/// Padding-content indicator inside DO'87': ISO/IEC 9797-1 method 2.
const PADDING_INDICATOR: u8 = 0x01;

/// Session keys of a secure channel: encryption and MAC keys for one cipher suite.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    suite: CipherSuite,
    enc: SecretKey,
    mac: SecretKey,
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SessionKeys({}, [redacted])", self.suite.name())
    }
}

impl SessionKeys {
    /// Keys for `suite`; each must have the suite's key length.
    pub fn new(suite: CipherSuite, enc: SecretKey, mac: SecretKey) -> Result<SessionKeys, Error> {
        if enc.as_bytes().len() != suite.key_len() || mac.as_bytes().len() != suite.key_len() {
            return Err(Error::Crypto(
                "session key length does not fit the cipher suite",
            ));
        }
        Ok(SessionKeys { suite, enc, mac })
    }

    /// Derives K_enc and K_mac from a shared secret with the ICAO 9303-11 KDF.
    pub fn derive(suite: CipherSuite, secret: &[u8]) -> SessionKeys {
        SessionKeys {
            suite,
            enc: crypto::derive_key(secret, crypto::KeyPurpose::Enc, suite),
            mac: crypto::derive_key(secret, crypto::KeyPurpose::Mac, suite),
        }
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The encryption key.
    pub fn enc(&self) -> &SecretKey {
        &self.enc
    }

    /// The MAC key.
    pub fn mac(&self) -> &SecretKey {
        &self.mac
    }
}

/// The send sequence counter: a big-endian number of one cipher block, incremented
/// before every command and every response.
#[derive(Clone, PartialEq, Eq)]
pub struct Ssc {
    bytes: [u8; 16],
    len: usize,
}

impl core::fmt::Debug for Ssc {
    // The SSC is derived from the authentication nonces; no need to show it.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Ssc({} bytes)", self.len)
    }
}

impl Ssc {
    /// A counter with this initial value (8 bytes for 3DES, 16 for AES).
    pub fn new(initial: &[u8]) -> Result<Ssc, Error> {
        if initial.len() != 8 && initial.len() != 16 {
            return Err(Error::Crypto("SSC must be 8 or 16 bytes"));
        }
        let mut bytes = [0u8; 16];
        bytes[..initial.len()].copy_from_slice(initial);
        Ok(Ssc {
            bytes,
            len: initial.len(),
        })
    }

    /// A counter of zero for `suite` (PACE, chip authentication).
    pub fn zero(suite: CipherSuite) -> Ssc {
        Ssc {
            bytes: [0; 16],
            len: suite.block_size(),
        }
    }

    /// The counter's current value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Adds one; refuses to wrap around, since a repeated counter would allow replay.
    pub(crate) fn increment(&mut self) -> Result<(), Error> {
        let value = &mut self.bytes[..self.len];
        if value.iter().all(|b| *b == 0xFF) {
            return Err(Error::SscExhausted);
        }
        for byte in value.iter_mut().rev() {
            let (next, carry) = byte.overflowing_add(1);
            *byte = next;
            if !carry {
                break;
            }
        }
        Ok(())
    }
}

/// Length of the protected response that carries `plain` response bytes: DO'87' with
/// padding, DO'99' and DO'8E'.
pub(crate) fn protected_response_len(suite: CipherSuite, plain: usize) -> usize {
    let cryptogram = if plain == 0 {
        0
    } else {
        let padded = (plain / suite.block_size() + 1) * suite.block_size();
        let value = padded + 1;
        1 + length_field_len(value) + value
    };
    cryptogram + 4 + 10
}

fn length_field_len(len: usize) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0xFF => 2,
        0x100..=0xFFFF => 3,
        _ => 4,
    }
}

/// The largest plaintext response that fits in `limit` protected response bytes.
pub fn max_plain_response(suite: CipherSuite, limit: usize) -> usize {
    let mut plain = limit.saturating_sub(protected_response_len(suite, 0));
    while plain > 0 && protected_response_len(suite, plain) > limit {
        plain -= 1;
    }
    plain
}

/// One secure-messaging session: keys and counter, for either side of the exchange.
///
/// After any integrity failure the session closes for good, as the standard requires of
/// the chip; the terminal does the same so a damaged channel is never used again.
#[derive(Debug)]
pub struct SmSession {
    keys: SessionKeys,
    ssc: Ssc,
    closed: bool,
}

impl SmSession {
    /// A session with `keys` whose counter starts at `ssc`.
    pub fn new(keys: SessionKeys, ssc: Ssc) -> Result<SmSession, Error> {
        if ssc.len != keys.suite.block_size() {
            return Err(Error::Crypto("SSC length differs from the block size"));
        }
        Ok(SmSession {
            keys,
            ssc,
            closed: false,
        })
    }

    /// The cipher suite in use.
    pub fn suite(&self) -> CipherSuite {
        self.keys.suite
    }

    /// The session keys.
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// Whether an earlier integrity failure closed the session.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The counter's current value (for tests against worked examples).
    pub fn ssc(&self) -> &Ssc {
        &self.ssc
    }

    fn step(&mut self) -> Result<(), Error> {
        if self.closed {
            return Err(Error::ChannelClosed);
        }
        if let Err(e) = self.ssc.increment() {
            self.closed = true;
            return Err(e);
        }
        Ok(())
    }

    fn iv(&self) -> Result<Vec<u8>, Error> {
        let suite = self.keys.suite;
        match suite {
            CipherSuite::Des3 => Ok(vec![0; 8]),
            _ => {
                let mut iv = self.ssc.as_bytes().to_vec();
                crypto::encrypt_block(suite, &self.keys.enc, &mut iv)?;
                Ok(iv)
            }
        }
    }

    fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, Error> {
        let mut data = crypto::pad(plain, self.keys.suite.block_size());
        crypto::encrypt_cbc(self.keys.suite, &self.keys.enc, &self.iv()?, &mut data)?;
        Ok(data)
    }

    fn decrypt(&self, cryptogram: &[u8]) -> Result<Vec<u8>, Error> {
        let mut data = cryptogram.to_vec();
        crypto::decrypt_cbc(self.keys.suite, &self.keys.enc, &self.iv()?, &mut data)
            .map_err(|_| Error::Malformed("cryptogram length"))?;
        let plain = crypto::unpad(&data, self.keys.suite.block_size())?;
        Ok(plain.to_vec())
    }

    fn mac(&self, parts: &[&[u8]]) -> Result<[u8; 8], Error> {
        let mut input = self.ssc.as_bytes().to_vec();
        for part in parts {
            input.extend_from_slice(part);
        }
        crypto::mac(
            self.keys.suite,
            &self.keys.mac,
            &crypto::pad(&input, self.keys.suite.block_size()),
        )
    }

    /// Terminal side: wraps a plain command (ICAO 9303-11 §9.8.4).
    pub fn protect_command(&mut self, command: &Command) -> Result<Command, Error> {
        if command.cla & 0x0C != 0 {
            return Err(Error::InvalidCommand(
                "command is already secure-messaging protected",
            ));
        }
        self.step()?;
        let block = self.keys.suite.block_size();
        let cla = command.cla | 0x0C;
        let header = crypto::pad(&[cla, command.ins, command.p1, command.p2], block);
        let mut body = Vec::new();
        if !command.data.is_empty() {
            let cryptogram = self.encrypt(&command.data)?;
            if command.ins & 1 == 1 {
                tlv::encode_into(Tag::new(DO_CRYPTOGRAM_ODD.into()), &cryptogram, &mut body);
            } else {
                let mut value = Vec::with_capacity(cryptogram.len() + 1);
                value.push(PADDING_INDICATOR);
                value.extend_from_slice(&cryptogram);
                tlv::encode_into(Tag::new(DO_CRYPTOGRAM.into()), &value, &mut body);
            }
        }
        let mut extended = command.is_extended();
        if let Some(le) = command.le {
            let le_value: Vec<u8> = if le <= 256 {
                vec![(le % 256) as u8]
            } else {
                ((le % 65536) as u16).to_be_bytes().to_vec()
            };
            tlv::encode_into(Tag::new(DO_LE.into()), &le_value, &mut body);
            extended |= protected_response_len(self.keys.suite, le) > 256;
        }
        let mac = self.mac(&[&header, &body])?;
        tlv::encode_into(Tag::new(DO_MAC.into()), &mac, &mut body);
        extended |= body.len() > 255;
        Ok(Command {
            cla,
            ins: command.ins,
            p1: command.p1,
            p2: command.p2,
            data: body,
            le: Some(if extended { 65536 } else { 256 }),
        })
    }

    /// Terminal side: checks and opens a protected response (ICAO 9303-11 §9.8.5).
    pub fn unprotect_response(&mut self, response: &Response) -> Result<Response, Error> {
        self.step()?;
        if response.data.is_empty() {
            return self.plain_status(response.sw);
        }
        let opened = self.open(&[], &response.data, DO_STATUS);
        let (plain, status) = match opened {
            Ok(v) => v,
            Err(e) => {
                self.closed = true;
                return Err(e);
            }
        };
        let status = status.ok_or_else(|| {
            self.closed = true;
            Error::MissingDataObject("DO'99' (status)")
        })?;
        let sw = match status.as_slice() {
            [sw1, sw2] => StatusWord::new(*sw1, *sw2),
            _ => {
                self.closed = true;
                return Err(Error::Malformed("DO'99' must hold two bytes"));
            }
        };
        Ok(Response::new(plain, sw))
    }

    /// A response without secure-messaging objects: only an error status can come so.
    fn plain_status(&mut self, sw: StatusWord) -> Result<Response, Error> {
        match sw {
            StatusWord::SmDataObjectsMissing | StatusWord::SmDataObjectsIncorrect => {
                // The chip has dropped the session.
                self.closed = true;
                Ok(Response::status(sw))
            }
            sw if sw.is_success() => {
                self.closed = true;
                Err(Error::MissingDataObject(
                    "DO'99' and DO'8E' in a success response",
                ))
            }
            sw => Ok(Response::status(sw)),
        }
    }

    /// Verifies the MAC over the objects before DO'8E' and decrypts the cryptogram.
    /// `trailer_tag` is DO'99' for responses, DO'97' for commands.
    /// `header` is the padded command header that the MAC also covers (commands only).
    fn open(
        &self,
        header: &[u8],
        data: &[u8],
        trailer_tag: u8,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
        let mut cryptogram: Option<(u8, &[u8])> = None;
        let mut trailer: Option<&[u8]> = None;
        let mut mac: Option<&[u8]> = None;
        let mut covered_end = 0;
        let mut offset = 0;
        for object in TlvIter::new(data) {
            let object = object?;
            if mac.is_some() {
                return Err(Error::Malformed("data object after DO'8E'"));
            }
            let tag = object.tag().value();
            match u8::try_from(tag) {
                Ok(DO_CRYPTOGRAM | DO_CRYPTOGRAM_ODD)
                    if cryptogram.is_none() && trailer.is_none() =>
                {
                    cryptogram = Some((tag as u8, object.value()));
                }
                Ok(t) if t == trailer_tag && trailer.is_none() => trailer = Some(object.value()),
                Ok(DO_MAC) => {
                    mac = Some(object.value());
                    covered_end = offset;
                }
                _ => return Err(Error::Malformed("unexpected secure messaging data object")),
            }
            offset += object.raw().len();
        }
        let mac = mac.ok_or(Error::MissingDataObject("DO'8E' (MAC)"))?;
        if mac.len() != 8 {
            return Err(Error::Malformed("DO'8E' must hold 8 bytes"));
        }
        let covered = data
            .get(..covered_end)
            .ok_or(Error::Truncated("MAC input"))?;
        let expected = self.mac(&[header, covered])?;
        if !crypto::mac_eq(&expected, mac) {
            return Err(Error::BadMac);
        }
        let plain = match cryptogram {
            None => Vec::new(),
            Some((DO_CRYPTOGRAM, value)) => match value.split_first() {
                Some((&PADDING_INDICATOR, encrypted)) => self.decrypt(encrypted)?,
                _ => return Err(Error::Malformed("DO'87' padding-content indicator")),
            },
            Some((_, encrypted)) => self.decrypt(encrypted)?,
        };
        Ok((plain, trailer.map(<[u8]>::to_vec)))
    }
}

impl SmSession {
    /// Card side: checks and opens a protected command. On any integrity failure the
    /// session closes and the caller answers with the returned status (6987 or 6988).
    pub fn unprotect_command(&mut self, command: &Command) -> Result<Command, StatusWord> {
        if self.closed || self.ssc.increment().is_err() {
            self.closed = true;
            return Err(StatusWord::ConditionsNotSatisfied);
        }
        if !command.is_secure_messaging() {
            self.closed = true;
            return Err(StatusWord::SmDataObjectsMissing);
        }
        let header = crypto::pad(
            &[command.cla, command.ins, command.p1, command.p2],
            self.keys.suite.block_size(),
        );
        match self.open(&header, &command.data, DO_LE) {
            Ok((data, le)) => {
                let le = match le.as_deref() {
                    None => None,
                    Some([0]) => Some(256),
                    Some([n]) => Some(usize::from(*n)),
                    Some([0, 0]) => Some(65536),
                    Some([a, b]) => Some(usize::from(u16::from_be_bytes([*a, *b]))),
                    Some(_) => {
                        self.closed = true;
                        return Err(StatusWord::SmDataObjectsIncorrect);
                    }
                };
                Ok(Command {
                    cla: command.cla & !0x0C,
                    ins: command.ins,
                    p1: command.p1,
                    p2: command.p2,
                    data,
                    le,
                })
            }
            Err(Error::MissingDataObject(_)) => {
                self.closed = true;
                Err(StatusWord::SmDataObjectsMissing)
            }
            Err(_) => {
                self.closed = true;
                Err(StatusWord::SmDataObjectsIncorrect)
            }
        }
    }

    /// Card side: protects a response to a command that came with `ins`.
    pub fn protect_response(&mut self, ins: u8, response: &Response) -> Result<Response, Error> {
        self.step()?;
        let mut body = Vec::new();
        if !response.data.is_empty() {
            let cryptogram = self.encrypt(&response.data)?;
            if ins & 1 == 1 {
                tlv::encode_into(Tag::new(DO_CRYPTOGRAM_ODD.into()), &cryptogram, &mut body);
            } else {
                let mut value = Vec::with_capacity(cryptogram.len() + 1);
                value.push(PADDING_INDICATOR);
                value.extend_from_slice(&cryptogram);
                tlv::encode_into(Tag::new(DO_CRYPTOGRAM.into()), &value, &mut body);
            }
        }
        tlv::encode_into(
            Tag::new(DO_STATUS.into()),
            &response.sw.to_bytes(),
            &mut body,
        );
        let mac = self.mac(&[&body])?;
        tlv::encode_into(Tag::new(DO_MAC.into()), &mac, &mut body);
        Ok(Response::new(body, response.sw))
    }
}

/// A [`Card`] whose every command is protected by secure messaging.
#[derive(Debug)]
pub struct SecureChannel<C: Card> {
    card: C,
    session: SmSession,
}

impl<C: Card> SecureChannel<C> {
    /// Wraps `card` in a session that an access protocol has established.
    pub fn new(card: C, session: SmSession) -> SecureChannel<C> {
        SecureChannel { card, session }
    }

    /// The session (cipher suite, counter).
    pub fn session(&self) -> &SmSession {
        &self.session
    }

    /// Replaces the session keys and counter, as chip authentication does.
    pub(crate) fn rekey(&mut self, session: SmSession) {
        self.session = session;
    }

    /// The card underneath, for a protocol that must talk to it directly.
    pub fn card_mut(&mut self) -> &mut C {
        &mut self.card
    }

    /// Splits into the card and the session.
    pub fn into_parts(self) -> (C, SmSession) {
        (self.card, self.session)
    }

    /// Gives back the session, dropping the card handle.
    pub(crate) fn into_session(self) -> SmSession {
        self.session
    }

    /// Gives back the card underneath; the session is dropped and its keys zeroized.
    pub fn into_inner(self) -> C {
        self.card
    }
}

impl<C: Card> Card for SecureChannel<C> {
    /// Protects `command`, sends it, fetches a chained answer (61xx, GET RESPONSE in
    /// clear) whole, then checks and opens it.
    ///
    /// On a card without extended length, a command whose protected answer would not fit
    /// a short Ne still goes out as a short APDU (Le 00): the card chains the answer.
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let mut protected = self.session.protect_command(command)?;
        if !self.card.extended_length()
            && protected.data.len() <= crate::command::MAX_SHORT_NC
            && protected
                .le
                .is_some_and(|le| le > crate::command::MAX_SHORT_NE)
        {
            protected.le = Some(crate::command::MAX_SHORT_NE);
        }
        let first = self.card.transmit(&protected)?;
        let response = crate::card::follow_get_response(&mut self.card, protected.cla, first)?;
        self.session.unprotect_response(&response)
    }

    fn extended_length(&self) -> bool {
        self.card.extended_length()
    }

    fn max_le(&self) -> usize {
        max_plain_response(self.session.suite(), self.card.max_le())
    }

    fn extended_length_announced(&self) -> Option<bool> {
        self.card.extended_length_announced()
    }

    fn extended_length_untried(&self) -> bool {
        self.card.extended_length_untried()
    }

    fn extended_length_unconfirmed(&self) -> bool {
        self.card.extended_length_unconfirmed()
    }

    fn set_extended_length(&mut self, works: bool) {
        self.card.set_extended_length(works);
    }

    fn max_le_extended(&self) -> usize {
        max_plain_response(self.session.suite(), self.card.max_le_extended())
    }

    /// Protects `command` and sends it as it is (no short-length cap). A chip that
    /// refuses a command for its length alone does so before opening it: the answer is a
    /// bare 67xx, 6Dxx or 6Exx (or the link fails to carry it), and the chip's counter
    /// has not moved, so the terminal's is put back where it was and the session goes
    /// on. A chip that opened the command answers under secure messaging, and both
    /// counters moved in step. A chip that answered bare but counted anyway fails the
    /// next command's MAC and ends the session: never a silent desynchronisation.
    fn transmit_length_probe(&mut self, command: &Command) -> Result<Response, Error> {
        let before = self.session.ssc.clone();
        let protected = self.session.protect_command(command)?;
        let first = match self.card.transmit_length_probe(&protected) {
            Ok(first) => first,
            Err(Error::Transport(e)) => {
                self.session.ssc = before;
                return Err(Error::Transport(e));
            }
            Err(e) => return Err(e),
        };
        let [sw1, _] = first.sw.to_bytes();
        if first.data.is_empty() && matches!(sw1, 0x67 | 0x6D | 0x6E) {
            self.session.ssc = before;
            return Ok(Response::status(first.sw));
        }
        let response = crate::card::follow_get_response(&mut self.card, protected.cla, first)?;
        self.session.unprotect_response(&response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(suite: CipherSuite) -> SmSession {
        let keys = SessionKeys::derive(suite, b"shared secret");
        SmSession::new(keys, Ssc::zero(suite)).unwrap()
    }

    #[test]
    fn terminal_and_card_agree_in_every_suite() {
        for suite in [
            CipherSuite::Des3,
            CipherSuite::Aes128,
            CipherSuite::Aes192,
            CipherSuite::Aes256,
        ] {
            let (mut terminal, mut card) = (session(suite), session(suite));
            for (data, le) in [
                (vec![], Some(8)),
                (vec![0x01, 0x1E], None),
                (vec![0x55; 300], Some(65536)),
                (vec![], Some(256)),
            ] {
                let plain = Command::new(0x00, 0xB0, 0x00, 0x00).with_data(data);
                let plain = Command { le, ..plain };
                let wire = terminal.protect_command(&plain).unwrap();
                let opened = card.unprotect_command(&wire).unwrap();
                assert_eq!(opened, plain);
                let answer = Response::new(vec![0xAB; le.unwrap_or(0)], StatusWord::Success);
                let wire = card.protect_response(plain.ins, &answer).unwrap();
                assert_eq!(terminal.unprotect_response(&wire).unwrap(), answer);
            }
        }
    }

    #[test]
    fn odd_instructions_use_do85() {
        let (mut terminal, mut card) = (session(CipherSuite::Aes128), session(CipherSuite::Aes128));
        let plain = Command::new(0x00, 0xB1, 0, 0)
            .with_data(vec![0x54, 0x02, 0x80, 0x00])
            .with_le(0x40);
        let wire = terminal.protect_command(&plain).unwrap();
        assert_eq!(wire.data.first(), Some(&0x85));
        assert_eq!(card.unprotect_command(&wire).unwrap(), plain);
        let wire = card
            .protect_response(
                0xB1,
                &Response::new(vec![0x53, 0x01, 0x00], StatusWord::Success),
            )
            .unwrap();
        assert_eq!(wire.data.first(), Some(&0x85));
        assert_eq!(
            terminal.unprotect_response(&wire).unwrap().data,
            vec![0x53, 0x01, 0x00]
        );
    }

    #[test]
    fn the_counter_refuses_to_wrap() {
        let mut ssc = Ssc::new(&[0xFF; 8]).unwrap();
        assert_eq!(ssc.increment(), Err(Error::SscExhausted));
        let mut ssc = Ssc::new(&[0, 0, 0, 0, 0, 0, 0, 0xFF]).unwrap();
        ssc.increment().unwrap();
        assert_eq!(ssc.as_bytes(), &[0, 0, 0, 0, 0, 0, 1, 0]);
        let keys = SessionKeys::derive(CipherSuite::Des3, b"k");
        let mut near_end = SmSession::new(
            keys,
            Ssc::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]).unwrap(),
        )
        .unwrap();
        let command = Command::new(0, 0xB0, 0, 0).with_le(4);
        near_end.protect_command(&command).unwrap();
        assert_eq!(
            near_end.unprotect_response(&Response::status(StatusWord::Success)),
            Err(Error::SscExhausted)
        );
        assert_eq!(
            near_end.protect_command(&command),
            Err(Error::ChannelClosed)
        );
    }

    #[test]
    fn the_protected_response_fits_the_short_limit() {
        for suite in [CipherSuite::Des3, CipherSuite::Aes128] {
            let plain = max_plain_response(suite, 256);
            assert!(protected_response_len(suite, plain) <= 256);
            assert!(protected_response_len(suite, plain + 1) > 256);
        }
        assert_eq!(max_plain_response(CipherSuite::Des3, 256), 231);
        assert_eq!(max_plain_response(CipherSuite::Aes128, 256), 223);
    }
}
