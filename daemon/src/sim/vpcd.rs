//! The virtual card's side of vsmartcard's vpcd protocol.
//!
//! pcscd's vpcd driver listens on TCP (35963 for "Virtual PCD 00 00", 35964 for
//! "… 00 01"); the card connects to it. A connected card is an inserted card; closing
//! the connection removes it. Every message both ways is a 2-byte big-endian length and
//! a payload. From the reader, a 1-byte payload is a control code (0 power off, 1 power
//! on, 2 reset, 4 send the ATR); anything longer is a command APDU. The card answers
//! the ATR request with its ATR and an APDU with its response; power and reset get no
//! answer. The driver polls presence by asking for the ATR (about every 400 ms).
//!
//! The bytes come from another process and are treated as hostile: the frame length is
//! a `u16`, so no message can make this side allocate more than 64 KiB, and nothing
//! here panics on any input.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Default vpcd address: the first slot of pcscd's vpcd driver.
pub const DEFAULT_VPCD: &str = "127.0.0.1:35963";

/// The largest payload a frame can carry.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Control code: power off.
pub const CTRL_OFF: u8 = 0;
/// Control code: power on.
pub const CTRL_ON: u8 = 1;
/// Control code: reset.
pub const CTRL_RESET: u8 = 2;
/// Control code: send the ATR.
pub const CTRL_ATR: u8 = 4;

/// One message from the reader.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// Power the card off.
    PowerOff,
    /// Power the card on.
    PowerOn,
    /// Warm reset.
    Reset,
    /// Send the ATR (also the driver's presence poll).
    GetAtr,
    /// A control code this side does not know; ignored.
    UnknownControl(u8),
    /// A command APDU.
    Apdu(Vec<u8>),
    /// An empty frame; ignored.
    Empty,
}

impl core::fmt::Debug for Message {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Message::PowerOff => f.write_str("PowerOff"),
            Message::PowerOn => f.write_str("PowerOn"),
            Message::Reset => f.write_str("Reset"),
            Message::GetAtr => f.write_str("GetAtr"),
            Message::UnknownControl(c) => write!(f, "UnknownControl({c})"),
            // Command APDUs may carry access keys: only their size is shown.
            Message::Apdu(a) => write!(f, "Apdu({} bytes)", a.len()),
            Message::Empty => f.write_str("Empty"),
        }
    }
}

impl Message {
    /// Decodes a frame's payload.
    pub fn decode(payload: Vec<u8>) -> Message {
        match payload.as_slice() {
            [] => Message::Empty,
            [CTRL_OFF] => Message::PowerOff,
            [CTRL_ON] => Message::PowerOn,
            [CTRL_RESET] => Message::Reset,
            [CTRL_ATR] => Message::GetAtr,
            [other] => Message::UnknownControl(*other),
            _ => Message::Apdu(payload),
        }
    }
}

/// Frames a payload; `None` when it is too long for the 2-byte length.
pub fn frame(payload: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(payload.len()).ok()?;
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Some(out)
}

/// Incremental frame decoder: bytes in, complete payloads out. Keeps a partial frame
/// across reads, so a read timeout in the middle of a frame loses nothing.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete payload, if one has arrived.
    pub fn next_payload(&mut self) -> Option<Vec<u8>> {
        let (&[hi, lo], rest) = self.buffer.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let payload = rest.get(..len)?.to_vec();
        self.buffer.drain(..2 + len);
        Some(payload)
    }

    /// Bytes waiting for the rest of their frame.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

/// A connection to the vpcd driver: the card is inserted while it is open.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    decoder: FrameDecoder,
}

/// What reading from the connection gave.
#[derive(Debug)]
pub enum Received {
    /// A message.
    Message(Message),
    /// Nothing within the poll interval.
    Idle,
    /// The driver closed the connection (pcscd stopped or restarted).
    Closed,
}

impl Connection {
    /// Connects to the vpcd driver at `address` (`HOST:PORT`), giving up after
    /// `timeout`; `poll` bounds every later read so the caller can look at signals.
    pub fn connect(address: &str, timeout: Duration, poll: Duration) -> io::Result<Connection> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "address resolves to nothing");
        for addr in address.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(poll))?;
                    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
                    let connection = Connection {
                        stream,
                        decoder: FrameDecoder::default(),
                    };
                    connection.quick_ack();
                    return Ok(connection);
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Waits up to the poll interval for the next message.
    pub fn receive(&mut self) -> io::Result<Received> {
        loop {
            if let Some(payload) = self.decoder.next_payload() {
                return Ok(Received::Message(Message::decode(payload)));
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(Received::Closed),
                Ok(n) => {
                    self.decoder.push(chunk.get(..n).unwrap_or_default());
                    self.quick_ack();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(Received::Idle);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Acknowledges received segments at once. The vpcd driver writes a frame's length
    /// and its payload in two sends with Nagle's algorithm on: the payload waits for
    /// the length's ACK, which a delayed ACK would hold back 40 ms, on every APDU.
    fn quick_ack(&self) {
        let _ = socket2::SockRef::from(&self.stream).set_tcp_quickack(true);
    }

    /// Sends one payload (an ATR or a response APDU).
    pub fn send(&mut self, payload: &[u8]) -> io::Result<()> {
        let framed = frame(payload)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "payload over 64 KiB"))?;
        self.stream.write_all(&framed)?;
        self.stream.flush()?;
        self.quick_ack();
        Ok(())
    }

    /// Closes the connection: the reader sees the card removed.
    pub fn close(self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_decoded_across_partial_reads() {
        let mut d = FrameDecoder::default();
        d.push(&[0x00]);
        assert_eq!(d.next_payload(), None);
        d.push(&[0x01, 0x04, 0x00, 0x05, 0x00, 0xA4]);
        assert_eq!(d.next_payload(), Some(vec![0x04]));
        assert_eq!(d.next_payload(), None);
        d.push(&[0x04, 0x0C, 0x00]);
        assert_eq!(d.next_payload(), Some(vec![0x00, 0xA4, 0x04, 0x0C, 0x00]));
        assert_eq!(d.pending(), 0);
        d.push(&[0x00, 0x00]);
        assert_eq!(d.next_payload(), Some(vec![]));
    }

    #[test]
    fn control_codes_and_apdus() {
        assert_eq!(Message::decode(vec![0]), Message::PowerOff);
        assert_eq!(Message::decode(vec![1]), Message::PowerOn);
        assert_eq!(Message::decode(vec![2]), Message::Reset);
        assert_eq!(Message::decode(vec![4]), Message::GetAtr);
        assert_eq!(Message::decode(vec![9]), Message::UnknownControl(9));
        assert_eq!(Message::decode(vec![]), Message::Empty);
        assert_eq!(Message::decode(vec![0, 0xB0]), Message::Apdu(vec![0, 0xB0]));
        assert_eq!(
            format!("{:?}", Message::Apdu(vec![1, 2, 3])),
            "Apdu(3 bytes)"
        );
    }

    #[test]
    fn frame_refuses_oversized_payloads() {
        assert_eq!(frame(&[0x90, 0x00]), Some(vec![0, 2, 0x90, 0x00]));
        assert!(frame(&vec![0; MAX_PAYLOAD]).is_some());
        assert!(frame(&vec![0; MAX_PAYLOAD + 1]).is_none());
    }
}
