//! ISO/IEC 7816-4 command and response APDUs: cases 1–4, short and extended length.

use crate::{Error, StatusWord};

/// Largest Nc of an extended command.
pub const MAX_EXTENDED_NC: usize = 65_535;
/// Largest Ne: `00 00` in an extended Le field.
pub const MAX_EXTENDED_NE: usize = 65_536;
/// Largest Nc of a short command.
pub const MAX_SHORT_NC: usize = 255;
/// Largest Ne of a short command: `00` in the Le field.
pub const MAX_SHORT_NE: usize = 256;

/// A command APDU. `le` is Ne, the number of response bytes expected (1..=65536),
/// or `None` when no response data is expected.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (Nc = its length).
    pub data: Vec<u8>,
    /// Ne, when response data is expected.
    pub le: Option<usize>,
}

impl core::fmt::Debug for Command {
    // The data field may carry key material or personal data: show its size only.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}, Nc={}, Ne={:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

impl Command {
    /// A case 1 command (no data, no response data).
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// Sets the command data.
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }

    /// Sets Ne.
    pub fn with_le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// Whether this command needs the extended-length encoding.
    pub fn is_extended(&self) -> bool {
        self.data.len() > MAX_SHORT_NC || self.le.is_some_and(|le| le > MAX_SHORT_NE)
    }

    /// The command with CLA bit 3–4 set to say the command is secure-messaging protected
    /// with the header authenticated (`0C` for CLA `00`).
    pub(crate) fn is_secure_messaging(&self) -> bool {
        self.cla & 0x0C == 0x0C
    }

    /// Encodes the command, short when both Nc and Ne allow it, extended otherwise.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let nc = self.data.len();
        if nc > MAX_EXTENDED_NC {
            return Err(Error::InvalidCommand(
                "command data longer than 65535 bytes",
            ));
        }
        if let Some(le) = self.le {
            if le == 0 || le > MAX_EXTENDED_NE {
                return Err(Error::InvalidCommand("Ne must be 1 to 65536"));
            }
        }
        let mut out = Vec::with_capacity(4 + 3 + nc + 3);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        let extended = self.is_extended();
        if nc > 0 {
            if extended {
                out.push(0);
                out.extend_from_slice(&(nc as u16).to_be_bytes());
            } else {
                out.push(nc as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if extended {
                if nc == 0 {
                    out.push(0);
                }
                // 65536 is encoded as 00 00.
                out.extend_from_slice(&((le % MAX_EXTENDED_NE) as u16).to_be_bytes());
            } else {
                out.push((le % MAX_SHORT_NE) as u8);
            }
        }
        Ok(out)
    }

    /// Decodes a command APDU strictly: every length field must match the bytes present.
    pub fn decode(bytes: &[u8]) -> Result<Command, Error> {
        let (header, body) = bytes
            .split_first_chunk::<4>()
            .ok_or(Error::Truncated("command header"))?;
        let [cla, ins, p1, p2] = *header;
        let mut command = Command::new(cla, ins, p1, p2);
        match body {
            // Case 1.
            [] => {}
            // Case 2 short.
            [le] => command.le = Some(short_ne(*le)),
            // Extended: the first body byte is 00 and at least two more follow.
            [0, rest @ ..] if rest.len() >= 2 => {
                let (len_bytes, rest) = rest.split_at(2);
                let value = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
                if rest.is_empty() {
                    // Case 2 extended.
                    command.le = Some(extended_ne(value));
                } else {
                    // Case 3 or 4 extended.
                    if value == 0 {
                        return Err(Error::Malformed("extended Lc of zero"));
                    }
                    let data = rest.get(..value).ok_or(Error::Truncated("command data"))?;
                    command.data = data.to_vec();
                    match &rest[value..] {
                        [] => {}
                        [a, b] => {
                            command.le =
                                Some(extended_ne(usize::from(u16::from_be_bytes([*a, *b]))))
                        }
                        _ => return Err(Error::Malformed("extended Le field")),
                    }
                }
            }
            // Case 3 or 4 short.
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return Err(Error::Malformed("short Lc of zero"));
                }
                let data = rest.get(..lc).ok_or(Error::Truncated("command data"))?;
                command.data = data.to_vec();
                match &rest[lc..] {
                    [] => {}
                    [le] => command.le = Some(short_ne(*le)),
                    _ => return Err(Error::Malformed("short Le field")),
                }
            }
        }
        Ok(command)
    }
}

fn short_ne(le: u8) -> usize {
    if le == 0 {
        MAX_SHORT_NE
    } else {
        usize::from(le)
    }
}

fn extended_ne(le: usize) -> usize {
    if le == 0 { MAX_EXTENDED_NE } else { le }
}

/// A response APDU: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// SW1-SW2.
    pub sw: StatusWord,
}

impl core::fmt::Debug for Response {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Response({} bytes, {})", self.data.len(), self.sw)
    }
}

impl Response {
    /// A response with data and a status word.
    pub fn new(data: impl Into<Vec<u8>>, sw: StatusWord) -> Response {
        Response {
            data: data.into(),
            sw,
        }
    }

    /// A response with no data, only a status word.
    pub fn status(sw: StatusWord) -> Response {
        Response::new(Vec::new(), sw)
    }

    /// Splits raw response bytes into data and status word.
    pub fn decode(bytes: &[u8]) -> Result<Response, Error> {
        let (data, sw) = bytes
            .split_last_chunk::<2>()
            .ok_or(Error::Truncated("response status word"))?;
        Ok(Response::new(data, StatusWord::new(sw[0], sw[1])))
    }

    /// Data followed by SW1 SW2.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 2);
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.sw.to_bytes());
        out
    }

    /// The data if the status word is success (or a warning that delivers data),
    /// otherwise the status as an error.
    pub(crate) fn into_data(self) -> Result<Vec<u8>, Error> {
        if self.sw.is_success() {
            Ok(self.data)
        } else {
            Err(Error::Status(self.sw))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8]) -> Command {
        let command = Command::decode(bytes).unwrap();
        assert_eq!(command.encode().unwrap(), bytes, "{command:?}");
        command
    }

    #[test]
    fn the_seven_cases() {
        let c = round_trip(&[0x00, 0x84, 0x00, 0x00]);
        assert_eq!((c.data.len(), c.le), (0, None));
        let c = round_trip(&[0x00, 0x84, 0x00, 0x00, 0x08]);
        assert_eq!(c.le, Some(8));
        let c = round_trip(&[0x00, 0xB0, 0x00, 0x00, 0x00]);
        assert_eq!(c.le, Some(256));
        let c = round_trip(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1E]);
        assert_eq!((c.data, c.le), (vec![0x01, 0x1E], None));
        let c = round_trip(&[0x00, 0x82, 0x00, 0x00, 0x01, 0xAA, 0x10]);
        assert_eq!((c.data, c.le), (vec![0xAA], Some(16)));
        let c = round_trip(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x01]);
        assert_eq!(c.le, Some(257));
        // An extended Le that fits a short one decodes, and re-encodes short.
        let c = Command::decode(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00]).unwrap();
        assert_eq!(c.encode().unwrap(), vec![0x00, 0xB0, 0x00, 0x00, 0x00]);
        let c = round_trip(&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(c.le, Some(65536));
        let mut long = vec![0x00, 0xDA, 0x00, 0x00, 0x00, 0x01, 0x00];
        long.extend(std::iter::repeat_n(0x55, 256));
        let c = round_trip(&long);
        assert_eq!((c.data.len(), c.le), (256, None));
        long.extend([0x10, 0x00]);
        let c = round_trip(&long);
        assert_eq!((c.data.len(), c.le), (256, Some(0x1000)));
    }

    #[test]
    fn short_data_with_extended_le_is_extended() {
        let c = Command::new(0x0C, 0xB0, 0, 0)
            .with_data(vec![1, 2, 3])
            .with_le(65536);
        assert_eq!(
            c.encode().unwrap(),
            vec![0x0C, 0xB0, 0, 0, 0, 0, 3, 1, 2, 3, 0, 0]
        );
    }

    #[test]
    fn malformed_commands_are_refused() {
        for bytes in [
            &[0x00, 0xA4, 0x02][..],
            &[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01],
            &[0x00, 0xA4, 0x02, 0x0C, 0x01, 0x01, 0x00, 0x00],
            &[0x00, 0xA4, 0x02, 0x0C, 0x00, 0x00, 0x05, 0x01],
            &[0x00, 0xA4, 0x02, 0x0C, 0x00, 0x00, 0x01, 0x01, 0x00],
        ] {
            assert!(Command::decode(bytes).is_err(), "{bytes:02X?}");
        }
        assert!(Command::new(0, 0, 0, 0).with_le(0).encode().is_err());
        assert!(Command::new(0, 0, 0, 0).with_le(65537).encode().is_err());
        assert!(
            Command::new(0, 0, 0, 0)
                .with_data(vec![0; 65536])
                .encode()
                .is_err()
        );
        assert!(Response::decode(&[0x90]).is_err());
    }

    #[test]
    fn debug_hides_the_data() {
        let c = Command::new(0, 0x82, 0, 0).with_data(vec![0x42; 40]);
        assert_eq!(format!("{c:?}"), "Command(00 82 00 00, Nc=40, Ne=None)");
    }
}
