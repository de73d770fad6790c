//! One client connection: newline-delimited JSON in, answers and events out.
//!
//! Requests are read one line at a time, each at most `max_line` bytes; a longer line
//! gets an error answer and the connection is closed, and nothing beyond the bound is
//! ever buffered. Answers and events go through one bounded queue to a writer task, so a
//! client that stops reading slows only itself. A `read` runs as a task of its own, so
//! `info`, `cancel` and the rest are answered while it runs; one read per connection.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Interest};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use zeroize::Zeroize as _;

use super::Shared;
use super::cmd::{self, Code};
use super::context::Context;
use crate::config::{ClientRule, Peer};

/// Lines queued for the writer; beyond this the connection's own tasks wait.
const QUEUE: usize = 64;
/// How long a client no rule allows may stay without sending its (refused) request, so
/// that such clients cannot hold connection slots.
const REFUSED_GRACE: Duration = Duration::from_secs(5);
/// How long one answer may wait for the client to take it: a client that stops reading
/// is disconnected once the queue is full and its socket has taken nothing for this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What one read from the client gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A line, without its newline.
    Line(Vec<u8>),
    /// A line longer than the bound.
    TooLong,
    /// The client closed the connection (or its writing side).
    Eof,
}

/// Reads newline-terminated frames of at most `max_line` bytes.
#[derive(Debug)]
pub struct FrameReader {
    reader: BufReader<OwnedReadHalf>,
    max_line: usize,
}

impl FrameReader {
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

    /// Completes once the client has closed the connection entirely (not just its
    /// writing side): nobody is left to read an answer.
    async fn peer_gone(&self) {
        loop {
            match self
                .reader
                .get_ref()
                .as_ref()
                .ready(Interest::WRITABLE)
                .await
            {
                Ok(ready) if ready.is_write_closed() => return,
                Ok(_) => {}
                Err(_) => return,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A client connection.
pub struct Connection {
    frames: FrameReader,
    writer: OwnedWriteHalf,
    context: Context,
    out_rx: mpsc::Receiver<Value>,
}

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Wraps an accepted stream.
    pub fn new(
        stream: UnixStream,
        shared: Arc<Shared>,
        peer: Option<Peer>,
        client: Option<ClientRule>,
    ) -> Connection {
        let max_line = shared.config().server.max_line;
        let (read, write) = stream.into_split();
        let (out, out_rx) = mpsc::channel(QUEUE);
        Connection {
            frames: FrameReader {
                reader: BufReader::with_capacity(8 * 1024, read),
                max_line,
            },
            writer: write,
            context: Context::new(shared, peer, client, out),
            out_rx,
        }
    }

    /// Answers requests until the client leaves, sends an over-long line, is refused,
    /// or the server shuts down; then cancels its read and writes what is left.
    pub async fn serve(self, mut shutdown: watch::Receiver<bool>) -> io::Result<()> {
        let Connection {
            mut frames,
            writer,
            mut context,
            out_rx,
        } = self;
        let mut writer_task = tokio::spawn(write_lines(writer, out_rx));
        let idle_timeout = context.shared.config().server.idle_timeout;
        let mut client_gone = false;
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Waiting for a read's answer or for events is not idleness.
            let waiting = context.reading() || context.subscribed.load(Ordering::SeqCst);
            let deadline = match (&context.client, waiting) {
                (None, _) => Some(REFUSED_GRACE),
                (Some(_), false) => Some(idle_timeout),
                (Some(_), true) => None,
            };
            let refused_deadline = async {
                match deadline {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending::<()>().await,
                }
            };
            let frame = tokio::select! {
                frame = frames.read_frame() => frame,
                _ = refused_deadline => {
                    if context.client.is_some() {
                        tracing::info!(seconds = idle_timeout.as_secs(), "api: idle connection closed");
                    }
                    break
                }
                _ = shutdown.changed() => break,
                _ = context.out.closed() => { client_gone = true; break }
            };
            let frame = match frame {
                Ok(f) => f,
                Err(_) => {
                    client_gone = true;
                    break;
                }
            };
            match frame {
                Frame::Eof => {
                    // The client may have closed only its writing side and still be
                    // waiting for the answer of its read.
                    if let Some(mut read) = context.read.take() {
                        let ended = tokio::select! {
                            _ = &mut read.task => true,
                            _ = frames.peer_gone() => { client_gone = true; false }
                            _ = shutdown.changed() => false,
                        };
                        // A finished task must not be awaited again.
                        if !ended {
                            context.read = Some(read);
                        }
                    }
                    break;
                }
                Frame::TooLong => {
                    tracing::info!(max = frames.max_line, "api: request line too long");
                    let answer = cmd::error_answer(
                        &Value::Null,
                        Code::BadRequest,
                        &format!("request line longer than {} bytes", frames.max_line),
                    );
                    let _ = context.out.send(answer).await;
                    break;
                }
                Frame::Line(mut line) => {
                    let refused = context.client.is_none();
                    let answer = cmd::answer(&line, &mut context).await;
                    // The line may hold access data.
                    line.zeroize();
                    if let Some(answer) = answer {
                        if context.out.send(answer).await.is_err() {
                            client_gone = true;
                            break;
                        }
                    }
                    if refused {
                        break;
                    }
                }
            }
        }
        context.unsubscribe();
        if let Some(read) = context.read.take() {
            if client_gone || *shutdown.borrow() || !read.task.is_finished() {
                read.cancel.cancel();
            }
            // A cancelled read ends within one command; its answer is still written.
            let mut task = read.task;
            if tokio::time::timeout(Duration::from_secs(30), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
        drop(context);
        // No task of the connection outlives it.
        if tokio::time::timeout(Duration::from_secs(5), &mut writer_task)
            .await
            .is_err()
        {
            writer_task.abort();
        }
        Ok(())
    }
}

/// Writes queued lines until every sender is gone or the client stops taking them.
async fn write_lines(mut writer: OwnedWriteHalf, mut lines: mpsc::Receiver<Value>) {
    while let Some(line) = lines.recv().await {
        let mut text = match serde_json::to_vec(&line) {
            Ok(t) => t,
            Err(_) => continue,
        };
        text.push(b'\n');
        match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&text)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                tracing::info!("api: the client takes no answers; disconnected");
                return;
            }
        }
    }
    let _ = writer.shutdown().await;
}
