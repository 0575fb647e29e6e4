//! The 16-byte PDU header (SMPP 3.4 §2.2.1 / §3.2).

use bytes::BufMut;

use crate::{CommandId, CommandStatus};

/// Length of the header that starts every PDU.
pub const HEADER_LEN: usize = 16;

/// A PDU's sequence number (SMPP 3.4 §5.1.4): 1..=0x7FFF_FFFF for requests a peer allocates; responses echo the request's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct SequenceNumber(pub u32);

impl SequenceNumber {
    /// The largest sequence number a sender may allocate.
    pub const MAX: u32 = 0x7FFF_FFFF;

    /// The number after this one, wrapping from 0x7FFF_FFFF back to 1.
    pub fn next(self) -> SequenceNumber {
        if self.0 >= Self::MAX {
            SequenceNumber(1)
        } else {
            SequenceNumber(self.0 + 1)
        }
    }
}

impl std::fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The four header fields, as read off the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    /// Total PDU length, header included.
    pub command_length: u32,
    /// What the PDU is.
    pub command_id: CommandId,
    /// The result, on responses; zero on requests.
    pub command_status: CommandStatus,
    /// Pairs a response with its request.
    pub sequence_number: SequenceNumber,
}

impl Header {
    /// Reads a header from the first 16 bytes of `buf`; `None` when fewer than 16 bytes are there.
    pub fn peek(buf: &[u8]) -> Option<Header> {
        if buf.len() < HEADER_LEN {
            return None;
        }
        let word = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        Some(Header {
            command_length: word(0),
            command_id: CommandId(word(4)),
            command_status: CommandStatus(word(8)),
            sequence_number: SequenceNumber(word(12)),
        })
    }

    /// Writes the header's 16 bytes.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u32(self.command_length);
        out.put_u32(self.command_id.0);
        out.put_u32(self.command_status.0);
        out.put_u32(self.sequence_number.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_wrap_to_one() {
        assert_eq!(SequenceNumber(0x7FFF_FFFF).next(), SequenceNumber(1));
        assert_eq!(SequenceNumber(1).next(), SequenceNumber(2));
    }

    #[test]
    fn header_round_trips() {
        let h = Header {
            command_length: 16,
            command_id: CommandId::ENQUIRE_LINK,
            command_status: CommandStatus::ESME_ROK,
            sequence_number: SequenceNumber(7),
        };
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, hex_bytes("00000010000000150000000000000007"));
        assert_eq!(Header::peek(&out), Some(h));
        assert_eq!(Header::peek(&out[..15]), None);
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
