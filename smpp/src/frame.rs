//! Cuts PDUs out of a byte stream by `command_length` (SMPP 3.4 §3.2), before any parsing.
//!
//! A `command_length` below 16 or above the configured maximum is fatal for the connection: the stream can no longer be
//! trusted to be aligned on PDU boundaries. Everything else about a PDU is checked when its body is decoded, as a per-PDU
//! error ([`crate::PduError`]) the session answers while keeping the bind.

use bytes::{Buf, Bytes, BytesMut};

use crate::{Header, HEADER_LEN};

/// The largest PDU accepted by default: 64 KiB covers a full `message_payload` and every other body.
pub const DEFAULT_MAX_PDU_LEN: usize = 64 * 1024;

/// A stream that cannot be cut into PDUs; the connection must be closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// `command_length` is smaller than the header itself.
    #[error("command_length {command_length} is shorter than the 16-octet header")]
    TooShort {
        /// The length the peer sent.
        command_length: u32,
    },
    /// `command_length` exceeds the configured maximum.
    #[error("command_length {command_length} exceeds the maximum of {max} octets")]
    TooLong {
        /// The length the peer sent.
        command_length: u32,
        /// The configured maximum.
        max: usize,
    },
}

/// The length of the first PDU in `buf` once all of it is buffered; `Ok(None)` while more octets are needed.
pub fn frame_len(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let Some(header) = Header::peek(buf) else {
        return Ok(None);
    };
    let len = header.command_length as usize;
    if len < HEADER_LEN {
        return Err(FrameError::TooShort {
            command_length: header.command_length,
        });
    }
    if len > max {
        return Err(FrameError::TooLong {
            command_length: header.command_length,
            max,
        });
    }
    Ok((buf.len() >= len).then_some(len))
}

/// Splits the first whole PDU off `buf`, without copying; `Ok(None)` while more octets are needed.
pub fn split_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, FrameError> {
    match frame_len(buf, max)? {
        Some(len) => Ok(Some(buf.split_to(len).freeze())),
        None => Ok(None),
    }
}

/// Skips the first whole PDU of `buf` (after its header was read); returns false while it is not all buffered.
pub fn skip_frame(buf: &mut BytesMut, max: usize) -> Result<bool, FrameError> {
    match frame_len(buf, max)? {
        Some(len) => {
            buf.advance(len);
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_whole_frame() {
        let mut buf = BytesMut::from(&[0, 0, 0, 0x11, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1][..]);
        assert_eq!(split_frame(&mut buf, DEFAULT_MAX_PDU_LEN), Ok(None));
        buf.extend_from_slice(&[0xAA, 0, 0, 0, 0x10]);
        let frame = split_frame(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
        assert_eq!(frame.len(), 17);
        assert_eq!(buf.len(), 4);
    }

    #[test]
    fn rejects_a_length_shorter_than_the_header() {
        let buf = [0, 0, 0, 0x0F, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            frame_len(&buf, 1000),
            Err(FrameError::TooShort { command_length: 15 })
        );
    }

    #[test]
    fn rejects_a_length_over_the_maximum_before_buffering_it() {
        let buf = [0, 1, 0, 1, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            frame_len(&buf, DEFAULT_MAX_PDU_LEN),
            Err(FrameError::TooLong {
                command_length: 65537,
                max: 65536
            })
        );
    }
}
