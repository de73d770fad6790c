//! One client connection: newline-delimited JSON, each line at most `max_line` bytes.
//! A longer line gets an error answer and the connection is closed; nothing beyond the
//! bound is ever buffered.

use std::io;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;

use super::Shared;
use super::cmd;

/// What one read from the client gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A line, without its newline.
    Line(Vec<u8>),
    /// A line longer than the bound.
    TooLong,
    /// The client closed the connection.
    Eof,
}

/// A client connection.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    max_line: usize,
}

impl Connection {
    /// Wraps an accepted stream.
    pub fn new(stream: UnixStream, max_line: usize) -> Connection {
        let (read, write) = stream.into_split();
        Connection {
            reader: BufReader::with_capacity(8 * 1024, read),
            writer: write,
            max_line,
        }
    }

    /// Reads the next line, never holding more than `max_line` bytes of it.
    pub async fn read_frame(&mut self) -> io::Result<Frame> {
        let mut line = Vec::new();
        loop {
            let buf = self.reader.fill_buf().await?;
            if buf.is_empty() {
                // A last line without its newline still counts as a request.
                return Ok(if line.is_empty() {
                    Frame::Eof
                } else {
                    Frame::Line(line)
                });
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    if line.len() + i > self.max_line {
                        return Ok(Frame::TooLong);
                    }
                    line.extend_from_slice(&buf[..i]);
                    self.reader.consume(i + 1);
                    return Ok(Frame::Line(line));
                }
                None => {
                    let n = buf.len();
                    if line.len() + n > self.max_line {
                        return Ok(Frame::TooLong);
                    }
                    line.extend_from_slice(buf);
                    self.reader.consume(n);
                }
            }
        }
    }

    /// Writes one answer line.
    pub async fn write_answer(&mut self, answer: &Value) -> io::Result<()> {
        let mut text = serde_json::to_vec(answer).map_err(io::Error::other)?;
        text.push(b'\n');
        self.writer.write_all(&text).await?;
        self.writer.flush().await
    }

    /// Answers requests until the client leaves, sends an over-long line, or the server
    /// shuts down.
    pub async fn serve(
        &mut self,
        shared: &Arc<Shared>,
        mut shutdown: watch::Receiver<bool>,
    ) -> io::Result<()> {
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let frame = tokio::select! {
                frame = self.read_frame() => frame?,
                _ = shutdown.changed() => return Ok(()),
            };
            match frame {
                Frame::Eof => return Ok(()),
                Frame::TooLong => {
                    tracing::info!(max = self.max_line, "api: request line too long");
                    let answer = cmd::error_answer(
                        &Value::Null,
                        cmd::Code::BadRequest,
                        &format!("request line longer than {} bytes", self.max_line),
                    );
                    self.write_answer(&answer).await?;
                    let _ = self.writer.shutdown().await;
                    return Ok(());
                }
                Frame::Line(line) => {
                    let answer = cmd::answer(&line, shared).await;
                    self.write_answer(&answer).await?;
                }
            }
        }
    }
}
