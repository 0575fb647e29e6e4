//! Moves bytes between a TCP stream and a sans-IO [`Session`]: reads into a bounded buffer, cuts frames, feeds the
//! session, and writes everything the session queued in one write. Timers and policy belong to the callers.

use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use smpp::frame::{split_frame, FrameError};
use smpp::pdu::{Body, Pdu};
use smpp::session::Session;
use smpp::CommandStatus;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The time now: monotonic (tokio's clock, so paused-time tests control it) and Unix seconds.
pub fn now() -> (Instant, i64) {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    (tokio::time::Instant::now().into_std(), unix)
}

/// A session on a TCP stream.
pub struct Conn<T> {
    stream: TcpStream,
    rbuf: BytesMut,
    max_pdu: usize,
    /// The protocol state.
    pub session: Session<T>,
}

impl<T> Conn<T> {
    /// Wraps a connected stream; Nagle's algorithm is turned off (every PDU batch goes out at once).
    pub fn new(stream: TcpStream, session: Session<T>, max_pdu: usize) -> Self {
        let _ = stream.set_nodelay(true);
        Conn {
            stream,
            rbuf: BytesMut::with_capacity(16 * 1024),
            max_pdu,
            session,
        }
    }

    /// Writes everything the session has queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        while let Some(bytes) = self.session.poll_transmit() {
            self.stream.write_all(&bytes).await?;
        }
        Ok(())
    }

    /// Reads what is available (cancel-safe); `Ok(0)` when the peer closed.
    pub async fn read(&mut self) -> io::Result<usize> {
        if self.rbuf.capacity() - self.rbuf.len() < 4096 {
            self.rbuf.reserve(16 * 1024);
        }
        self.stream.read_buf(&mut self.rbuf).await
    }

    /// Hands every whole buffered PDU to the session. A framing error is fatal: the peer gets a generic_nack with
    /// ESME_RINVCMDLEN and the caller must close.
    pub async fn process(&mut self, now: Instant) -> Result<(), FrameError> {
        loop {
            match split_frame(&mut self.rbuf, self.max_pdu) {
                Ok(Some(frame)) => match Pdu::decode(frame) {
                    Ok(pdu) => self.session.handle_pdu(pdu, now),
                    Err(e) => self.session.handle_decode_error(e, now),
                },
                Ok(None) => return Ok(()),
                Err(e) => {
                    let seq = smpp::Header::peek(&self.rbuf)
                        .map(|h| h.sequence_number)
                        .unwrap_or_default();
                    let nack = Pdu {
                        sequence_number: seq,
                        command_status: CommandStatus::ESME_RINVCMDLEN,
                        body: Body::GenericNack,
                    };
                    let _ = self.flush().await;
                    let _ = self.stream.write_all(&nack.to_bytes()).await;
                    return Err(e);
                }
            }
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.stream.peer_addr()
    }

    /// Shuts the write side after flushing.
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }
}

/// Sleeps until the session's next timer, or forever when it has none.
pub async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}
