//! Decode and encode primitives shared by the PDU parsers: nom parsers over a frame's `&[u8]` that copy C-Octet Strings
//! (all short) into their values and hand back Octet Strings and TLV values as zero-copy `Bytes` slices of the frame, and
//! a parse error that carries the `command_status` to answer with.

use bytes::{Buf, Bytes};
use nom::error::{ErrorKind, ParseError};
use nom::IResult;

use crate::tlv::{Tlv, TlvTag, Tlvs};
use crate::types::{Address, COctetString, Npi, OctetString, Ton};
use crate::CommandStatus;

/// Why a body did not parse: the field at fault and the status to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The status the response (or `generic_nack`) carries.
    pub status: CommandStatus,
    /// The spec's name of the field that did not parse.
    pub field: &'static str,
}

impl Fault {
    pub(crate) fn new(status: CommandStatus, field: &'static str) -> Self {
        Fault { status, field }
    }

    /// A body that ended before this field did: `ESME_RINVCMDLEN`.
    pub(crate) fn short(field: &'static str) -> Self {
        Fault::new(CommandStatus::ESME_RINVCMDLEN, field)
    }
}

impl<I> ParseError<I> for Fault {
    fn from_error_kind(_: I, _: ErrorKind) -> Self {
        Fault::short("body")
    }

    fn append(_: I, _: ErrorKind, other: Self) -> Self {
        other
    }
}

/// The result of one field parser.
pub(crate) type PResult<'a, T> = IResult<&'a [u8], T, Fault>;

fn fail<T>(status: CommandStatus, field: &'static str) -> Result<T, nom::Err<Fault>> {
    Err(nom::Err::Failure(Fault::new(status, field)))
}

/// The first `N` octets of `i` and the rest; a body that ends first is a length error on `field`.
///
/// The integer fields read through this rather than `nom::number::complete`, whose error is built and then mapped to
/// ours: a submit_sm has ten one-octet fields, and this keeps each to a length check and a load.
#[inline]
fn take_array<'a, const N: usize>(i: &'a [u8], field: &'static str) -> PResult<'a, [u8; N]> {
    match i.split_first_chunk::<N>() {
        Some((octets, rest)) => Ok((rest, *octets)),
        None => fail(CommandStatus::ESME_RINVCMDLEN, field),
    }
}

/// An `Integer(1)` field.
#[inline]
pub(crate) fn u8_field<'a>(field: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, u8> {
    move |i| take_array::<1>(i, field).map(|(i, [octet])| (i, octet))
}

/// An `Integer(2)` field.
#[inline]
pub(crate) fn u16_field<'a>(field: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, u16> {
    move |i| take_array(i, field).map(|(i, octets)| (i, u16::from_be_bytes(octets)))
}

/// An `Integer(4)` field.
#[inline]
pub(crate) fn u32_field<'a>(field: &'static str) -> impl Fn(&'a [u8]) -> PResult<'a, u32> {
    move |i| take_array(i, field).map(|(i, octets)| (i, u32::from_be_bytes(octets)))
}

/// A `C-Octet String` of at most `MAX` octets with its NUL, copied into the value (see [`COctetString`]). A string with no
/// NUL within `MAX` octets is too long for its field and answered with `too_long`; one cut off by the end of the body is
/// a length error (`ESME_RINVCMDLEN`).
#[inline]
pub(crate) fn c_octet<'a, const MAX: usize>(
    field: &'static str,
    too_long: CommandStatus,
) -> impl Fn(&'a [u8]) -> PResult<'a, COctetString<MAX>> {
    move |i: &'a [u8]| take_c_octet(i, field, too_long)
}

/// [`c_octet`] as a function of the input, forced inline: the hot submit_sm parser calls it directly so that each value
/// is copied straight into its place in the body, instead of being returned through memory by a call.
#[inline(always)]
pub(crate) fn take_c_octet<'a, const MAX: usize>(
    i: &'a [u8],
    field: &'static str,
    too_long: CommandStatus,
) -> PResult<'a, COctetString<MAX>> {
    match i.first_chunk::<MAX>() {
        // The usual case, a field followed by more of the body: copy the whole window, a fixed size.
        Some(window) => match nul_in(window) {
            Some(end) => Ok((&i[end + 1..], COctetString::from_window(window, end))),
            None => fail(too_long, field),
        },
        None => match nul_in(i) {
            Some(end) => Ok((&i[end + 1..], COctetString::from_checked(&i[..end]))),
            None => fail(CommandStatus::ESME_RINVCMDLEN, field),
        },
    }
}

/// The position of the first NUL, eight octets at a time: a C-Octet String's window is 6 to 65 octets, and a loop over
/// single octets was a fifth of a submit_sm's decode.
#[inline]
fn nul_in(octets: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut words = octets.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("eight octets"));
        // The high bit of each NUL octet (Hacker's Delight §6-1). A borrow can also mark an octet after the first NUL,
        // never one before it, so the lowest mark, the first octet in little-endian order, is exact.
        let nuls = word.wrapping_sub(ONES) & !word & HIGHS;
        if nuls != 0 {
            return Some(at + (nuls.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|p| at + p)
}

/// `N` one-octet fields in a row, read with one length check; a body that ends among them is a length error on the
/// first field it lacks.
#[inline]
pub(crate) fn u8_run<'a, const N: usize>(
    fields: [&'static str; N],
) -> impl Fn(&'a [u8]) -> PResult<'a, [u8; N]> {
    move |i| match i.split_first_chunk::<N>() {
        Some((octets, rest)) => Ok((rest, *octets)),
        // `i` is shorter than `N` here, so it indexes the first field missing.
        None => fail(CommandStatus::ESME_RINVCMDLEN, fields[i.len()]),
    }
}

/// An `Octet String` whose length was given by an earlier field (`sm_length`).
#[inline]
pub(crate) fn octets<'a, const MAX: usize>(
    src: &'a Bytes,
    len: usize,
    field: &'static str,
) -> impl Fn(&'a [u8]) -> PResult<'a, OctetString<MAX>> {
    move |i: &'a [u8]| {
        if len > MAX {
            return fail(CommandStatus::ESME_RINVMSGLEN, field);
        }
        if i.len() < len {
            return fail(CommandStatus::ESME_RINVCMDLEN, field);
        }
        Ok((&i[len..], OctetString::from_checked(slice(src, &i[..len]))))
    }
}

/// The octets of an `Octet String` whose length was given by an earlier field, as a slice for the caller to own later
/// (see [`into_slice`]).
#[inline]
pub(crate) fn octets_raw<'a>(
    max: usize,
    len: usize,
    field: &'static str,
) -> impl Fn(&'a [u8]) -> PResult<'a, &'a [u8]> {
    move |i: &'a [u8]| {
        if len > max {
            return fail(CommandStatus::ESME_RINVMSGLEN, field);
        }
        match i.split_at_checked(len) {
            Some((octets, rest)) => Ok((rest, octets)),
            None => fail(CommandStatus::ESME_RINVCMDLEN, field),
        }
    }
}

/// The `range` of `frame`, taking the frame itself rather than a new reference to it: a `Bytes` slice takes an atomic
/// increment now and gives it back when the frame is dropped, the two most expensive instructions of a decode.
#[inline]
pub(crate) fn into_slice(mut frame: Bytes, range: std::ops::Range<usize>) -> Bytes {
    if range.is_empty() {
        return Bytes::new();
    }
    // A no-op when the range ends the frame, as `short_message` does unless TLVs follow.
    frame.truncate(range.end);
    frame.advance(range.start);
    frame
}

/// Where `sub`, a sub-slice of `frame`, lies in it.
#[inline]
pub(crate) fn range_in(frame: &[u8], sub: &[u8]) -> std::ops::Range<usize> {
    let start = sub.as_ptr() as usize - frame.as_ptr() as usize;
    debug_assert!(start + sub.len() <= frame.len());
    start..start + sub.len()
}

/// A nom result as the fault to answer with.
#[inline]
pub(crate) fn fault_of(e: nom::Err<Fault>) -> Fault {
    match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => f,
        nom::Err::Incomplete(_) => Fault::short("body"),
    }
}

/// A TON, NPI and address triple.
#[inline]
pub(crate) fn address<'a, const MAX: usize>(
    field: &'static str,
    bad: CommandStatus,
) -> impl Fn(&'a [u8]) -> PResult<'a, Address<MAX>> {
    move |i: &'a [u8]| take_address(i, field, bad)
}

/// [`address`] as a function of the input, forced inline like [`take_c_octet`].
#[inline(always)]
pub(crate) fn take_address<'a, const MAX: usize>(
    i: &'a [u8],
    field: &'static str,
    bad: CommandStatus,
) -> PResult<'a, Address<MAX>> {
    let (i, [ton, npi]) = take_array(i, field)?;
    let (i, addr) = take_c_octet::<MAX>(i, field, bad)?;
    Ok((
        i,
        Address {
            ton: Ton(ton),
            npi: Npi(npi),
            addr,
        },
    ))
}

/// The TLVs that fill the rest of a body (SMPP 3.4 §3.2.4). A TLV that runs past the end is `ESME_RINVTLVSTREAM`; a
/// standard tag with a value of the wrong size is `ESME_RINVTLVLEN`.
pub(crate) fn tlvs<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, Tlvs> {
    move |mut i: &'a [u8]| {
        let mut out = Tlvs::new();
        while !i.is_empty() {
            if i.len() < 4 {
                return fail(CommandStatus::ESME_RINVTLVSTREAM, "tlv header");
            }
            let tag = TlvTag(u16::from_be_bytes([i[0], i[1]]));
            let len = usize::from(u16::from_be_bytes([i[2], i[3]]));
            let rest = &i[4..];
            if rest.len() < len {
                return fail(
                    CommandStatus::ESME_RINVTLVSTREAM,
                    tag.name().unwrap_or("tlv value"),
                );
            }
            if let Err(status) = tag.check_length(len) {
                return fail(status, tag.name().unwrap_or("tlv value"));
            }
            out.push(Tlv {
                tag,
                value: slice(src, &rest[..len]),
            });
            i = &rest[len..];
        }
        Ok((i, out))
    }
}

/// Fails with `ESME_RINVCMDLEN` when octets are left over after a body that takes no TLVs.
pub(crate) fn end(i: &[u8]) -> PResult<'_, ()> {
    if i.is_empty() {
        Ok((i, ()))
    } else {
        fail(CommandStatus::ESME_RINVCMDLEN, "trailing octets")
    }
}

/// A zero-copy `Bytes` for a sub-slice of the frame.
fn slice(src: &Bytes, sub: &[u8]) -> Bytes {
    if sub.is_empty() {
        Bytes::new()
    } else {
        src.slice_ref(sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_octet_strings_end_at_their_nul() {
        let (rest, s) =
            c_octet::<11>("source_addr", CommandStatus::ESME_RINVSRCADR)(b"ACME\0rest").unwrap();
        assert_eq!(s, "ACME");
        assert_eq!(rest, b"rest");
    }

    #[test]
    fn c_octet_strings_with_a_whole_window_after_them_keep_only_their_value() {
        let body = b"ACME\0rest of the body";
        let (rest, s) = c_octet::<11>("source_addr", CommandStatus::ESME_RINVSRCADR)(body).unwrap();
        assert_eq!(s, "ACME");
        assert_eq!(s.encoded_len(), 5);
        assert_eq!(s, COctetString::<11>::try_from("ACME").unwrap());
        assert_eq!(rest, b"rest of the body");
    }

    #[test]
    fn nul_search_finds_the_first_nul_wherever_it_is() {
        for len in 0..40 {
            for first in 0..=len {
                let mut octets = vec![0x80u8; len];
                // A 0x01 before the NUL and a NUL after it must not fool the word-at-a-time search.
                if first > 0 {
                    octets[first - 1] = 0x01;
                }
                if first < len {
                    octets[first] = 0;
                    if first + 1 < len {
                        octets[first + 1] = 0x01;
                    }
                    octets[first..].iter_mut().skip(2).for_each(|b| *b = 0);
                }
                let expected = (first < len).then_some(first);
                assert_eq!(nul_in(&octets), expected, "len {len}, NUL at {first}");
            }
        }
    }

    #[test]
    fn a_run_of_one_octet_fields_cut_short_blames_the_first_missing_field() {
        let run = u8_run::<3>(["esm_class", "protocol_id", "priority_flag"]);
        assert_eq!(run(&[1, 2, 3, 4]), Ok((&[4u8][..], [1, 2, 3])));
        assert_eq!(
            run(&[1]),
            Err(nom::Err::Failure(Fault::short("protocol_id")))
        );
    }

    #[test]
    fn too_long_c_octet_string_answers_the_fields_status() {
        let src = Bytes::from_static(b"0123456789ABCDEF\0");
        let e = c_octet::<16>("system_id", CommandStatus::ESME_RINVSYSID)(&src).unwrap_err();
        assert_eq!(
            e,
            nom::Err::Failure(Fault::new(CommandStatus::ESME_RINVSYSID, "system_id"))
        );
    }

    #[test]
    fn unterminated_c_octet_string_is_a_length_error() {
        let src = Bytes::from_static(b"abc");
        let e = c_octet::<16>("system_id", CommandStatus::ESME_RINVSYSID)(&src).unwrap_err();
        assert_eq!(e, nom::Err::Failure(Fault::short("system_id")));
    }

    #[test]
    fn tlv_running_past_the_end_is_a_tlv_stream_error() {
        let src = Bytes::from_static(&[0x04, 0x27, 0x00, 0x02, 0x01]);
        let e = tlvs(&src)(&src).unwrap_err();
        assert_eq!(
            e,
            nom::Err::Failure(Fault::new(
                CommandStatus::ESME_RINVTLVSTREAM,
                "message_state"
            ))
        );
    }
}
