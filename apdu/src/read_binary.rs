//! Selecting and reading files: SELECT by AID or file identifier, and READ BINARY that
//! asks for the largest chunk at once, takes the file's TLV header from the first answer
//! and then reads exactly the bytes the header announces.
//!
//! The reader starts from the largest Ne the link allows ([`Card::max_le`]: short or
//! extended length, less the secure-messaging overhead) and steps down when the card
//! answers 6700 (wrong length) or 6Cxx (use this Le), or returns fewer bytes than asked;
//! what it learns holds for the rest of the session. When the link did not say whether
//! it carries extended-length APDUs ([`Card::extended_length_untried`]), the first file
//! larger than one short answer is finished with one extended READ BINARY, whose answer
//! decides for the session. Offsets past 32 767 use READ BINARY with odd INS (B1) and an
//! offset data object.

use crate::tlv::{self, Header, Tag};
use crate::{Card, Command, Error, Response, StatusWord};

/// The ICAO 9303 LDS1 eMRTD application.
pub const ICAO_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
/// INS of SELECT.
pub const INS_SELECT: u8 = 0xA4;
/// INS of READ BINARY with an offset in P1-P2.
pub const INS_READ_BINARY: u8 = 0xB0;
/// INS of READ BINARY with an offset data object (odd INS).
pub const INS_READ_BINARY_ODD: u8 = 0xB1;
/// Largest offset READ BINARY B0 can address in P1-P2 (bit 8 of P1 selects SFI mode).
pub const MAX_B0_OFFSET: usize = 0x7FFF;
/// Bytes that always hold a file's TLV header: a two-byte tag and a five-byte length
/// (more are read when a chip answers fewer).
pub const HEADER_READ_LEN: usize = 8;

/// Ne values tried, from the largest down, after a card refuses a length without saying
/// which it would accept. 0xE0 and 0xDF are the limits of common chips.
const STEP_DOWN: [usize; 12] = [
    0x8000, 0x4000, 0x1000, 0x0800, 0x0400, 0x0200, 0xE0, 0xDF, 0x80, 0x40, 0x20, 0x10,
];

/// Hard bounds on what one file may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest file accepted, header included.
    pub max_file_size: usize,
    /// Most READ BINARY commands for one file, refused lengths included.
    pub max_commands: usize,
    /// Largest Ne ever asked for, whatever the link allows.
    pub max_le: usize,
}

impl Default for ReadLimits {
    /// 1 MiB per file (a DG2 or DG3 is well below), 2048 commands (1 MiB at 512 bytes).
    fn default() -> ReadLimits {
        ReadLimits {
            max_file_size: 1 << 20,
            max_commands: 2048,
            max_le: crate::command::MAX_EXTENDED_NE,
        }
    }
}

/// What reading cost so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// SELECT commands sent.
    pub selects: usize,
    /// READ BINARY commands sent, refused ones included.
    pub read_binary: usize,
    /// File bytes received.
    pub bytes: usize,
    /// Extended READ BINARY sent to learn whether the link carries them (counted in
    /// `read_binary` as well).
    pub extended_probes: usize,
}

/// Selects the application `aid` (no FCI asked, so no Le).
pub fn select_application(card: &mut impl Card, aid: &[u8]) -> Result<(), Error> {
    let command = Command::new(0x00, INS_SELECT, 0x04, 0x0C).with_data(aid);
    expect_success(card.exchange(&command)?)
}

/// Selects the elementary file `fid` under the current DF (no Le).
pub fn select_file(card: &mut impl Card, fid: u16) -> Result<(), Error> {
    let command = Command::new(0x00, INS_SELECT, 0x02, 0x0C).with_data(fid.to_be_bytes());
    expect_success(card.exchange(&command)?)
}

/// Selects the master file.
pub(crate) fn select_master_file(card: &mut impl Card) -> Result<(), Error> {
    let command = Command::new(0x00, INS_SELECT, 0x00, 0x0C).with_data([0x3F, 0x00]);
    expect_success(card.exchange(&command)?)
}

fn expect_success(response: Response) -> Result<(), Error> {
    if response.sw.is_success() {
        Ok(())
    } else {
        Err(Error::Status(response.sw))
    }
}

/// Reads whole files, remembering across files what the card accepts.
#[derive(Clone, Debug)]
pub struct FileReader {
    limits: ReadLimits,
    /// Largest Ne the card has shown it accepts, once it refused a larger one.
    learned_le: Option<usize>,
    /// The card refused READ BINARY by short file identifier: select files instead.
    sfi_refused: bool,
    stats: ReadStats,
}

impl Default for FileReader {
    fn default() -> FileReader {
        FileReader::new(ReadLimits::default())
    }
}

impl FileReader {
    /// A reader with these bounds.
    pub fn new(limits: ReadLimits) -> FileReader {
        FileReader {
            limits,
            learned_le: None,
            sfi_refused: false,
            stats: ReadStats::default(),
        }
    }

    /// What reading has cost so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// The Ne this reader will ask for next on `card`.
    pub(crate) fn chunk_le(&self, card: &impl Card) -> usize {
        let link = card.max_le().min(self.limits.max_le);
        self.learned_le.map_or(link, |l| l.min(link)).max(1)
    }

    /// Selects `fid` under the current DF and reads it whole.
    pub fn read_file(&mut self, card: &mut impl Card, fid: u16) -> Result<Vec<u8>, Error> {
        self.stats.selects += 1;
        select_file(card, fid)?;
        let before = self.stats;
        let file = self.read_selected(card)?;
        tracing::debug!(
            fid = format_args!("{fid:04X}"),
            size = file.len(),
            commands = self.stats.read_binary - before.read_binary,
            "file read"
        );
        Ok(file)
    }

    /// Reads a file by its short file identifier: the first READ BINARY selects it
    /// (ISO/IEC 7816-4 P1 bit 8), which saves the SELECT. A card that does not take SFIs
    /// is read by `fid` instead, and not asked again in this session.
    pub fn read_file_by_sfi(
        &mut self,
        card: &mut impl Card,
        sfi: u8,
        fid: u16,
    ) -> Result<Vec<u8>, Error> {
        if self.sfi_refused || !(1..=30).contains(&sfi) {
            return self.read_file(card, fid);
        }
        let before = self.stats;
        match self.read_from(card, Some(sfi)) {
            Ok(file) => {
                tracing::debug!(
                    sfi,
                    size = file.len(),
                    commands = self.stats.read_binary - before.read_binary,
                    "file read"
                );
                Ok(file)
            }
            // The SFI form itself refused: never again on this card.
            Err(Error::Status(
                StatusWord::IncorrectP1P2
                | StatusWord::WrongParameters
                | StatusWord::FunctionNotSupported
                | StatusWord::InsNotSupported
                | StatusWord::CommandNotAllowed,
            )) => {
                tracing::debug!(sfi, "READ BINARY by SFI refused; selecting files");
                self.sfi_refused = true;
                self.read_file(card, fid)
            }
            // Not there under that SFI: ask by identifier, which says for sure.
            Err(Error::Status(StatusWord::FileNotFound)) => self.read_file(card, fid),
            Err(e) => Err(e),
        }
    }

    /// Reads the currently selected file whole: the first answer gives its size, the
    /// rest is read in exactly that many bytes.
    pub fn read_selected(&mut self, card: &mut impl Card) -> Result<Vec<u8>, Error> {
        self.read_from(card, None)
    }

    /// Reads a file whole, selecting it by `sfi` with the first command when given.
    ///
    /// The first READ BINARY asks for the largest chunk the session allows and takes the
    /// TLV header from its answer: a file that fits in one answer costs one command. A
    /// header claiming more than [`ReadLimits::max_file_size`] ends the read before
    /// anything is allocated for it.
    fn read_from(&mut self, card: &mut impl Card, mut sfi: Option<u8>) -> Result<Vec<u8>, Error> {
        let mut commands = 0;
        let mut file: Vec<u8> = Vec::new();
        let mut eof = false;
        let total = loop {
            match Header::parse(&file) {
                Ok(header) => {
                    break header
                        .total_len()
                        .filter(|t| *t <= self.limits.max_file_size)
                        .ok_or(Error::FileTooLarge {
                            size: header.value_len.saturating_add(header.header_len),
                            limit: self.limits.max_file_size,
                        })?;
                }
                // Not enough bytes yet for the header (a chip with a tiny buffer).
                Err(Error::Truncated(_)) if !eof && file.len() < HEADER_READ_LEN => {}
                Err(e) => return Err(e),
            }
            let want = self.chunk_le(card);
            let chunk = self.read_chunk(card, file.len(), want, sfi, &mut commands)?;
            // A refused command may not have selected the file: keep the SFI until one
            // delivers data.
            if !matches!(chunk, Chunk::Retry) {
                sfi = None;
            }
            match chunk {
                Chunk::Data(data) => append(&mut file, &data, want),
                Chunk::EndOfFile(data) => {
                    append(&mut file, &data, want);
                    eof = true;
                }
                Chunk::Retry => {}
            }
        };
        file.truncate(total);
        file.reserve_exact(total - file.len());
        while file.len() < total {
            if eof {
                return Err(Error::Truncated("file shorter than its header says"));
            }
            let remaining = total - file.len();
            let chunk = if remaining > self.chunk_le(card)
                && file.len() <= MAX_B0_OFFSET
                && card.extended_length_untried()
            {
                self.probe_extended(card, file.len(), remaining, &mut commands)?
            } else {
                let want = remaining.min(self.chunk_le(card));
                self.read_chunk(card, file.len(), want, None, &mut commands)?
            };
            match chunk {
                Chunk::Data(data) => append(&mut file, &data, remaining),
                Chunk::EndOfFile(data) => {
                    append(&mut file, &data, remaining);
                    eof = true;
                }
                Chunk::Retry => {}
            }
        }
        Ok(file)
    }

    /// One extended READ BINARY on a link that did not say whether it carries them
    /// (ISO/IEC 7816-4 leaves the announcement optional): the answer decides for the
    /// rest of the session. A refusal (6700, 6Dxx, 6Exx, a transport error, an answer
    /// longer than asked) turns extended length off and the chunk is read again in
    /// short APDUs; [`Card::transmit_length_probe`] keeps a secure channel in step
    /// with a chip that refused the command before opening it.
    fn probe_extended(
        &mut self,
        card: &mut impl Card,
        offset: usize,
        remaining: usize,
        commands: &mut usize,
    ) -> Result<Chunk, Error> {
        *commands += 1;
        if *commands > self.limits.max_commands {
            return Err(Error::TooManyChunks(self.limits.max_commands));
        }
        let le = remaining
            .min(card.max_le_extended())
            .min(self.limits.max_le)
            .max(1);
        self.stats.read_binary += 1;
        self.stats.extended_probes += 1;
        let [p1, p2] = (offset as u16).to_be_bytes();
        let command = Command::new(0x00, INS_READ_BINARY, p1, p2).with_le(le);
        let accepted = match card.transmit_length_probe(&command) {
            Ok(r) if r.sw.is_success() && !r.data.is_empty() && r.data.len() <= le => Some(r),
            Ok(r) if r.sw == StatusWord::EndOfFileReached && r.data.len() <= le => Some(r),
            Ok(r) => {
                tracing::debug!(sw = %r.sw, len = r.data.len(), "extended READ BINARY refused");
                None
            }
            Err(Error::CardRemoved) => return Err(Error::CardRemoved),
            Err(Error::Transport(e)) => {
                tracing::debug!(error = %e, "extended READ BINARY not carried");
                None
            }
            Err(e) => return Err(e),
        };
        card.set_extended_length(accepted.is_some());
        let Some(response) = accepted else {
            return Ok(Chunk::Retry);
        };
        tracing::debug!(
            le,
            "extended length works; used for the rest of the session"
        );
        self.stats.bytes += response.data.len();
        Ok(if response.sw == StatusWord::EndOfFileReached {
            Chunk::EndOfFile(response.data)
        } else {
            Chunk::Data(response.data)
        })
    }

    /// One READ BINARY of `le` bytes at `offset`; with `sfi`, at offset 0 by short file
    /// identifier.
    fn read_chunk(
        &mut self,
        card: &mut impl Card,
        offset: usize,
        le: usize,
        sfi: Option<u8>,
        commands: &mut usize,
    ) -> Result<Chunk, Error> {
        *commands += 1;
        if *commands > self.limits.max_commands {
            return Err(Error::TooManyChunks(self.limits.max_commands));
        }
        self.stats.read_binary += 1;
        let odd = offset > MAX_B0_OFFSET;
        let command = if odd {
            let mut offset_do = Vec::with_capacity(5);
            let bytes = (offset as u32).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            tlv::encode_into(Tag::new(0x54), &bytes[skip..], &mut offset_do);
            // Ne covers the DO'53' header around the data as well.
            let wrapped = le + 1 + length_field_len(le);
            let wrapped = wrapped.min(self.chunk_le(card));
            Command::new(0x00, INS_READ_BINARY_ODD, 0x00, 0x00)
                .with_data(offset_do)
                .with_le(wrapped)
        } else if let (Some(sfi), 0) = (sfi, offset) {
            Command::new(0x00, INS_READ_BINARY, 0x80 | (sfi & 0x1F), 0x00).with_le(le)
        } else {
            let [p1, p2] = (offset as u16).to_be_bytes();
            Command::new(0x00, INS_READ_BINARY, p1, p2).with_le(le)
        };
        let asked = command.le.unwrap_or(le);
        // No automatic 6Cxx re-issue: the exact Le is worth remembering.
        let response = if command.is_extended() && card.extended_length_unconfirmed() {
            match self.first_extended(card, &command)? {
                Some(response) => response,
                None => return Ok(Chunk::Retry),
            }
        } else {
            card.transmit(&command)?
        };
        match response.sw {
            StatusWord::Success | StatusWord::EndOfFileReached => {
                let eof = response.sw == StatusWord::EndOfFileReached;
                let received = response.data.len();
                let data = if odd {
                    unwrap_odd(&response.data)?
                } else {
                    response.data
                };
                self.stats.bytes += data.len();
                if data.is_empty() {
                    return if eof {
                        Ok(Chunk::EndOfFile(data))
                    } else {
                        Err(Error::Malformed("READ BINARY returned no data"))
                    };
                }
                if received < asked && !eof && received >= 8 {
                    // Fewer bytes than asked, but not at the end: the card's buffer limit.
                    self.learn(received);
                }
                Ok(if eof {
                    Chunk::EndOfFile(data)
                } else {
                    Chunk::Data(data)
                })
            }
            StatusWord::WrongLength => {
                let lower = STEP_DOWN
                    .iter()
                    .copied()
                    .find(|l| *l < asked)
                    .ok_or(Error::Status(StatusWord::WrongLength))?;
                tracing::debug!(from = asked, to = lower, "card refused Ne; stepping down");
                self.learn(lower);
                Ok(Chunk::Retry)
            }
            StatusWord::WrongLe(n) => {
                let exact = if n == 0 { 256 } else { usize::from(n) };
                if exact >= asked {
                    return Err(Error::Status(response.sw));
                }
                tracing::debug!(from = asked, to = exact, "card named its Ne");
                self.learn(exact);
                Ok(Chunk::Retry)
            }
            StatusWord::WarningUnchanged(_) if !response.data.is_empty() => {
                self.stats.bytes += response.data.len();
                Ok(Chunk::Data(response.data))
            }
            sw => Err(Error::Status(sw)),
        }
    }

    /// The session's first extended command on a card that announced extended length:
    /// the reader between may still not carry it. A refusal for the length alone (6700,
    /// 6Dxx, 6Exx, a transport error) turns extended length off and gives `None`: the
    /// chunk is asked again in short APDUs, in the same secure-messaging session.
    fn first_extended(
        &mut self,
        card: &mut impl Card,
        command: &Command,
    ) -> Result<Option<Response>, Error> {
        match card.transmit_length_probe(command) {
            Ok(r) if r.data.is_empty() && matches!(r.sw.to_bytes()[0], 0x67 | 0x6D | 0x6E) => {
                tracing::debug!(sw = %r.sw, "announced extended length refused on the way");
            }
            Err(Error::Transport(e)) => {
                tracing::debug!(error = %e, "announced extended length not carried");
            }
            Ok(r) => {
                card.set_extended_length(true);
                return Ok(Some(r));
            }
            Err(e) => return Err(e),
        }
        card.set_extended_length(false);
        Ok(None)
    }

    fn learn(&mut self, le: usize) {
        self.learned_le = Some(self.learned_le.map_or(le, |l| l.min(le)));
    }
}

/// Appends at most `limit` bytes of a card's answer: a card that sends more than asked
/// gets no more room than it was asked for.
fn append(file: &mut Vec<u8>, data: &[u8], limit: usize) {
    file.extend_from_slice(data.get(..limit.min(data.len())).unwrap_or_default());
}

enum Chunk {
    Data(Vec<u8>),
    EndOfFile(Vec<u8>),
    Retry,
}

fn length_field_len(len: usize) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0xFF => 2,
        _ => 3,
    }
}

/// The data of a B1 response: the value of DO'53'.
fn unwrap_odd(data: &[u8]) -> Result<Vec<u8>, Error> {
    let (object, _) = tlv::Tlv::parse_prefix(data)?;
    if object.tag() != Tag::new(0x53) {
        return Err(Error::MissingDataObject(
            "DO'53' in READ BINARY (B1) answer",
        ));
    }
    Ok(object.value().to_vec())
}
