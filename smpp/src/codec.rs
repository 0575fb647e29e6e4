//! Decode and encode primitives shared by the PDU parsers: nom parsers over a frame's `&[u8]` that hand back zero-copy
//! `Bytes` slices of the frame, and a parse error that carries the `command_status` to answer with.

use bytes::Bytes;
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

/// A `C-Octet String` of at most `MAX` octets with its NUL. A string with no NUL within `MAX` octets is too long for its
/// field and answered with `too_long`; one cut off by the end of the body is a length error (`ESME_RINVCMDLEN`).
#[inline]
pub(crate) fn c_octet<'a, const MAX: usize>(
    src: &'a Bytes,
    field: &'static str,
    too_long: CommandStatus,
) -> impl Fn(&'a [u8]) -> PResult<'a, COctetString<MAX>> {
    move |i: &'a [u8]| {
        let window = &i[..i.len().min(MAX)];
        match window.iter().position(|&b| b == 0) {
            Some(end) => Ok((
                &i[end + 1..],
                COctetString::from_checked(slice(src, &i[..end])),
            )),
            None if i.len() >= MAX => fail(too_long, field),
            None => fail(CommandStatus::ESME_RINVCMDLEN, field),
        }
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

/// A TON, NPI and address triple.
#[inline]
pub(crate) fn address<'a, const MAX: usize>(
    src: &'a Bytes,
    field: &'static str,
    bad: CommandStatus,
) -> impl Fn(&'a [u8]) -> PResult<'a, Address<MAX>> {
    move |i: &'a [u8]| {
        let (i, ton) = u8_field(field)(i)?;
        let (i, npi) = u8_field(field)(i)?;
        let (i, addr) = c_octet::<MAX>(src, field, bad)(i)?;
        Ok((
            i,
            Address {
                ton: Ton(ton),
                npi: Npi(npi),
                addr,
            },
        ))
    }
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
    fn c_octet_strings_slice_the_frame_without_copying() {
        let src = Bytes::from_static(b"ACME\0rest");
        let (rest, s) =
            c_octet::<11>(&src, "source_addr", CommandStatus::ESME_RINVSRCADR)(&src).unwrap();
        assert_eq!(s, "ACME");
        assert_eq!(rest, b"rest");
        assert_eq!(s.as_bytes().as_ptr(), src.as_ptr());
    }

    #[test]
    fn too_long_c_octet_string_answers_the_fields_status() {
        let src = Bytes::from_static(b"0123456789ABCDEF\0");
        let e = c_octet::<16>(&src, "system_id", CommandStatus::ESME_RINVSYSID)(&src).unwrap_err();
        assert_eq!(
            e,
            nom::Err::Failure(Fault::new(CommandStatus::ESME_RINVSYSID, "system_id"))
        );
    }

    #[test]
    fn unterminated_c_octet_string_is_a_length_error() {
        let src = Bytes::from_static(b"abc");
        let e = c_octet::<16>(&src, "system_id", CommandStatus::ESME_RINVSYSID)(&src).unwrap_err();
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
