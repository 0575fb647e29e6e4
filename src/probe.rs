//! A send-time stamp for measuring submit → carrier end to end. The load generator puts it on the submits of a stream
//! with `probe = true` as a vendor-specific TLV; the gateway passes TLVs through to the carrier; the built-in simulator,
//! when it reads such a submit_sm, records how long ago it was stamped. Wall-clock time (Unix nanoseconds) on both
//! sides, so it holds across processes on one machine, not across machines.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use smpp::tlv::{TlvTag, Tlvs};

/// The TLV: in SMPP 3.4's vendor-specific range (0x1400-0x3FFF). Its value is 8 octets of Unix time in nanoseconds,
/// big-endian, then one octet naming the load stream.
pub const SENT_AT: TlvTag = TlvTag(0x14F0);

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

/// The TLV's value for a submit of `stream` sent at `at`.
pub fn stamp(stream: u8, at: SystemTime) -> Bytes {
    let mut b = BytesMut::with_capacity(9);
    b.put_u64(unix_nanos(at));
    b.put_u8(stream);
    b.freeze()
}

/// The stream and the microseconds from the stamp to `now()`, when `tlvs` carry a well-formed stamp. The clock is read
/// only then: the simulator asks this of every submit it reads, and most carry no stamp.
pub fn elapsed_micros(tlvs: &Tlvs, now: impl FnOnce() -> SystemTime) -> Option<(u8, u64)> {
    let v = tlvs.get(SENT_AT)?;
    let v: &[u8; 9] = v.as_ref().try_into().ok()?;
    let sent = u64::from_be_bytes(v[..8].try_into().expect("8 of 9 octets"));
    Some((v[8], unix_nanos(now()).saturating_sub(sent) / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_stamp_gives_back_its_stream_and_the_time_since() {
        let t0 = SystemTime::now();
        let mut tlvs = Tlvs::new();
        tlvs.set(SENT_AT, stamp(3, t0)).unwrap();
        assert_eq!(
            elapsed_micros(&tlvs, || t0 + Duration::from_micros(1500)),
            Some((3, 1500))
        );
    }

    #[test]
    fn no_stamp_or_a_malformed_one_is_none() {
        let mut tlvs = Tlvs::new();
        assert_eq!(elapsed_micros(&tlvs, SystemTime::now), None);
        tlvs.set(SENT_AT, Bytes::from_static(b"short")).unwrap();
        assert_eq!(elapsed_micros(&tlvs, SystemTime::now), None);
    }
}
