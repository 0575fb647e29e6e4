//! Moves bytes between a TCP stream and a sans-IO [`Session`]: reads into a bounded buffer, cuts frames, feeds the
//! session, and writes everything the session queued in one write. Timers and policy belong to the callers.

use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use smpp::frame::{frame_len, split_frame, FrameError};
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

/// The most PDUs a connection hands to its session in one turn before it lets the runtime's other tasks run.
///
/// Every task of a busy gateway waits for the turns of those ahead of it, so the longest turns set how long an OTP
/// waits at each hop. A connection that handled everything it read (up to 16 KiB: 500 responses or 100 submits, with
/// their receipts and the next window of sends) held a worker for up to a millisecond. With 128, OTP submit -> carrier
/// p99 under the marketing flood went from 5.5 ms to 4.4-5.0 ms in 60 s runs (`scripts/bench otp-under-flood`), for
/// about 1% of throughput; 32 and 64 cost 5-15% of throughput and did not do better at p99.
pub const PDUS_PER_TURN: usize = 128;

/// A session on a TCP stream.
pub struct Conn<T> {
    stream: TcpStream,
    rbuf: BytesMut,
    max_pdu: usize,
    /// Whole PDUs are buffered that the last turn left for the next.
    backlog: bool,
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
            backlog: false,
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

    /// Reads what is available (cancel-safe); `Ok(0)` when the peer closed. When the last turn left whole PDUs
    /// buffered, it yields to the runtime's other tasks first and then returns without reading.
    pub async fn read(&mut self) -> io::Result<usize> {
        if self.backlog {
            tokio::task::yield_now().await;
            return Ok(self.rbuf.len());
        }
        if self.rbuf.capacity() - self.rbuf.len() < 4096 {
            self.rbuf.reserve(16 * 1024);
        }
        self.stream.read_buf(&mut self.rbuf).await
    }

    /// Hands the whole buffered PDUs to the session, at most [`PDUS_PER_TURN`]; the next [`Conn::read`] returns at once
    /// for the rest. A framing error is fatal: the peer gets a generic_nack with ESME_RINVCMDLEN and the caller must
    /// close.
    pub async fn process(&mut self, now: Instant) -> Result<(), FrameError> {
        self.backlog = false;
        for _ in 0..PDUS_PER_TURN {
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
        // More whole frames (or a framing error) wait: the next `read` returns at once, after letting other tasks run.
        self.backlog = !matches!(frame_len(&self.rbuf, self.max_pdu), Ok(None));
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use smpp::pdu::Pdu;
    use smpp::SequenceNumber;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_backlog_of_whole_turns_is_handled_in_turns_and_is_not_taken_for_a_close() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let n = 2 * PDUS_PER_TURN;
        let mut peer = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        // Exactly two whole turns, buffered before the first read.
        let mut all = Vec::new();
        for i in 0..n {
            let pdu = Pdu::new(SequenceNumber(i as u32 + 1), Body::EnquireLink);
            all.extend_from_slice(&pdu.to_bytes());
        }
        peer.write_all(&all).await.unwrap();
        // One more later, then the close: a turn that ends with the buffer empty must not read as the peer closing.
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let last = Pdu::new(SequenceNumber(n as u32 + 1), Body::EnquireLink);
            peer.write_all(&last.to_bytes()).await.unwrap();
        });
        let now = Instant::now();
        let mut conn: Conn<()> = Conn::new(
            stream,
            Session::new(smpp::session::Config::smsc(), now),
            smpp::DEFAULT_MAX_PDU_LEN,
        );
        let mut answered = 0;
        let mut turns = 0;
        while conn.read().await.unwrap() > 0 {
            conn.process(now).await.unwrap();
            turns += 1;
            while let Some(bytes) = conn.session.poll_transmit() {
                answered += bytes.len() / 16;
            }
        }
        assert_eq!(answered, n + 1, "one 16-octet answer per PDU");
        assert!(turns >= 3, "{turns} turns for {} PDUs", n + 1);
    }
}
