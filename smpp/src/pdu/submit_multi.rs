//! submit_multi and submit_multi_resp (SMPP 3.4 §4.5): one message to up to 254 SME addresses and distribution lists.

use std::ops::Deref;

use bytes::{BufMut, Bytes, BytesMut};

use super::submit_sm::{check_time, MAX_SHORT_MESSAGE};
use crate::codec::{self, address, c_octet, octets, u32_field, u8_field, Fault, PResult};
use crate::tlv::Tlvs;
use crate::types::{
    Address, COctetString, DataCoding, EsmClass, OctetString, PriorityFlag, RegisteredDelivery,
};
use crate::CommandStatus;

/// A list whose length travels in a one-octet count before it (`number_of_dests`, `no_unsuccess`): at least `MIN` and
/// at most 254 entries (SMPP 3.4 §4.5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedList<T, const MIN: usize>(Vec<T>);

impl<T, const MIN: usize> CountedList<T, MIN> {
    /// The most entries a list may hold: submit_multi allows 254 destinations (SMPP 3.4 §4.5.1).
    pub const MAX: usize = 254;

    /// Takes `items` when there are `MIN` to 254 of them; `Err(ESME_RINVNUMDESTS)` otherwise.
    pub fn new(items: Vec<T>) -> Result<Self, CommandStatus> {
        if (MIN..=Self::MAX).contains(&items.len()) {
            Ok(CountedList(items))
        } else {
            Err(CommandStatus::ESME_RINVNUMDESTS)
        }
    }

    /// The entries.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The entries, as an owned `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// The count octet: the length, which `new` bounds to 254.
    fn count(&self) -> u8 {
        self.0.len() as u8
    }
}

impl<T> Default for CountedList<T, 0> {
    fn default() -> Self {
        CountedList(Vec::new())
    }
}

impl<T, const MIN: usize> Deref for CountedList<T, MIN> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T, const MIN: usize> IntoIterator for &'a CountedList<T, MIN> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Parses `count` entries, failing with `status` unless `MIN <= count <= 254`.
fn counted<'a, T, const MIN: usize>(
    count: u8,
    field: &'static str,
    entry: impl Fn(&'a [u8]) -> PResult<'a, T>,
) -> impl FnOnce(&'a [u8]) -> PResult<'a, CountedList<T, MIN>> {
    move |mut i| {
        let n = usize::from(count);
        if !(MIN..=CountedList::<T, MIN>::MAX).contains(&n) {
            return Err(nom::Err::Failure(Fault::new(
                CommandStatus::ESME_RINVNUMDESTS,
                field,
            )));
        }
        // Every entry takes at least two octets, so the body bounds the allocation as well as the count does.
        let mut items = Vec::with_capacity(n.min(i.len() / 2));
        for _ in 0..n {
            let (rest, item) = entry(i)?;
            items.push(item);
            i = rest;
        }
        Ok((i, CountedList(items)))
    }
}

/// One `dest_address` of submit_multi (SMPP 3.4 §4.5.1.1), told apart on the wire by its `dest_flag`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestAddress {
    /// `dest_flag` 1: an SME address.
    Sme(Address<21>),
    /// `dest_flag` 2: the name of a distribution list the SMSC keeps.
    DistributionList(COctetString<21>),
}

impl DestAddress {
    const SME: u8 = 1;
    const DISTRIBUTION_LIST: u8 = 2;

    fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, DestAddress> {
        move |i| {
            let (i, dest_flag) = u8_field("dest_flag")(i)?;
            match dest_flag {
                Self::SME => {
                    let (i, a) = address("destination_addr", CommandStatus::ESME_RINVDSTADR)(i)?;
                    Ok((i, DestAddress::Sme(a)))
                }
                Self::DISTRIBUTION_LIST => {
                    let (i, name) = c_octet("dl_name", CommandStatus::ESME_RINVDLNAME)(i)?;
                    Ok((i, DestAddress::DistributionList(name)))
                }
                _ => Err(nom::Err::Failure(Fault::new(
                    CommandStatus::ESME_RINVDESTFLAG,
                    "dest_flag",
                ))),
            }
        }
    }

    fn encoded_len(&self) -> usize {
        1 + match self {
            DestAddress::Sme(a) => a.encoded_len(),
            DestAddress::DistributionList(name) => name.encoded_len(),
        }
    }

    fn encode(&self, out: &mut BytesMut) {
        match self {
            DestAddress::Sme(a) => {
                out.put_u8(Self::SME);
                a.encode(out);
            }
            DestAddress::DistributionList(name) => {
                out.put_u8(Self::DISTRIBUTION_LIST);
                name.encode(out);
            }
        }
    }
}

/// The destinations of a submit_multi: 1 to 254.
pub type DestAddresses = CountedList<DestAddress, 1>;

/// The body of `submit_multi` (SMPP 3.4 §4.5.1): submit_sm's fields with a list of destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitMulti {
    /// The service this message belongs to (empty for the SMSC default).
    pub service_type: COctetString<6>,
    /// The sender.
    pub source_addr: Address<21>,
    /// The recipients: SME addresses and distribution list names.
    pub dest_addrs: DestAddresses,
    /// Messaging mode, message type and UDH indicator.
    pub esm_class: EsmClass,
    /// GSM TP-Protocol-Identifier.
    pub protocol_id: u8,
    /// 0 (lowest) to 3.
    pub priority_flag: PriorityFlag,
    /// Empty for immediate delivery, or an SMPP time (§7.1.1).
    pub schedule_delivery_time: COctetString<17>,
    /// Empty for the SMSC default, or an SMPP time.
    pub validity_period: COctetString<17>,
    /// Which receipts are wanted.
    pub registered_delivery: RegisteredDelivery,
    /// 1 asks the SMSC to replace a queued message with the same source, destination and service type.
    pub replace_if_present_flag: u8,
    /// The alphabet of `short_message`.
    pub data_coding: DataCoding,
    /// A canned message's id (0 for none).
    pub sm_default_msg_id: u8,
    /// The message octets; empty when `message_payload` carries the text.
    pub short_message: OctetString<MAX_SHORT_MESSAGE>,
    /// Optional parameters.
    pub tlvs: Tlvs,
}

impl SubmitMulti {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, SubmitMulti> {
        move |i| {
            let (i, service_type) = c_octet("service_type", CommandStatus::ESME_RINVSERTYP)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, number_of_dests) = u8_field("number_of_dests")(i)?;
            let (i, dest_addrs) =
                counted(number_of_dests, "number_of_dests", DestAddress::parse())(i)?;
            let (i, esm_class) = u8_field("esm_class")(i)?;
            let (i, protocol_id) = u8_field("protocol_id")(i)?;
            let (i, priority_flag) = u8_field("priority_flag")(i)?;
            let (i, schedule_delivery_time) =
                c_octet("schedule_delivery_time", CommandStatus::ESME_RINVSCHED)(i)?;
            check_time(
                &schedule_delivery_time,
                CommandStatus::ESME_RINVSCHED,
                "schedule_delivery_time",
            )?;
            let (i, validity_period) =
                c_octet("validity_period", CommandStatus::ESME_RINVEXPIRY)(i)?;
            check_time(
                &validity_period,
                CommandStatus::ESME_RINVEXPIRY,
                "validity_period",
            )?;
            let (i, registered_delivery) = u8_field("registered_delivery")(i)?;
            let (i, replace_if_present_flag) = u8_field("replace_if_present_flag")(i)?;
            let (i, data_coding) = u8_field("data_coding")(i)?;
            let (i, sm_default_msg_id) = u8_field("sm_default_msg_id")(i)?;
            let (i, sm_length) = u8_field("sm_length")(i)?;
            let (i, short_message) = octets(src, usize::from(sm_length), "short_message")(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            let sm = SubmitMulti {
                service_type,
                source_addr,
                dest_addrs,
                esm_class: EsmClass(esm_class),
                protocol_id,
                priority_flag: PriorityFlag(priority_flag),
                schedule_delivery_time,
                validity_period,
                registered_delivery: RegisteredDelivery(registered_delivery),
                replace_if_present_flag,
                data_coding: DataCoding(data_coding),
                sm_default_msg_id,
                short_message,
                tlvs,
            };
            Ok((i, sm))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.source_addr.encoded_len()
            + 1
            + self
                .dest_addrs
                .iter()
                .map(DestAddress::encoded_len)
                .sum::<usize>()
            + 3
            + self.schedule_delivery_time.encoded_len()
            + self.validity_period.encoded_len()
            + 5
            + self.short_message.len()
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.source_addr.encode(out);
        out.put_u8(self.dest_addrs.count());
        for d in &self.dest_addrs {
            d.encode(out);
        }
        out.put_u8(self.esm_class.0);
        out.put_u8(self.protocol_id);
        out.put_u8(self.priority_flag.0);
        self.schedule_delivery_time.encode(out);
        self.validity_period.encode(out);
        out.put_u8(self.registered_delivery.0);
        out.put_u8(self.replace_if_present_flag);
        out.put_u8(self.data_coding.0);
        out.put_u8(self.sm_default_msg_id);
        // `short_message` is bounded to 254 octets by its type.
        out.put_u8(self.short_message.len() as u8);
        out.put_slice(self.short_message.as_bytes());
        self.tlvs.encode(out);
    }

    /// The message octets: `message_payload` when present, `short_message` otherwise (SMPP 3.4 §5.3.2.32).
    pub fn payload(&self) -> &[u8] {
        match self.tlvs.message_payload() {
            Some(p) => p,
            None => self.short_message.as_bytes(),
        }
    }
}

/// One destination the SMSC could not take (SMPP 3.4 §4.5.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsuccessSme {
    /// The destination as submitted.
    pub dest_addr: Address<21>,
    /// Why it failed.
    pub error_status_code: CommandStatus,
}

impl UnsuccessSme {
    fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, UnsuccessSme> {
        move |i| {
            let (i, dest_addr) = address("destination_addr", CommandStatus::ESME_RINVDSTADR)(i)?;
            let (i, error_status_code) = u32_field("error_status_code")(i)?;
            Ok((
                i,
                UnsuccessSme {
                    dest_addr,
                    error_status_code: CommandStatus(error_status_code),
                },
            ))
        }
    }

    fn encoded_len(&self) -> usize {
        self.dest_addr.encoded_len() + 4
    }

    fn encode(&self, out: &mut BytesMut) {
        self.dest_addr.encode(out);
        out.put_u32(self.error_status_code.0);
    }
}

/// The destinations a submit_multi_resp reports as failed: 0 to 254, one per destination at most.
pub type UnsuccessSmes = CountedList<UnsuccessSme, 0>;

/// The body of `submit_multi_resp` (SMPP 3.4 §4.5.2).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SubmitMultiResp {
    /// The SMSC's id for the message; `None` when an error response left the body out (the other fields are then unused
    /// and not sent).
    pub message_id: Option<COctetString<65>>,
    /// The destinations that failed.
    pub unsuccess_smes: UnsuccessSmes,
    /// SMPP 5.0 (§4.2.3.2) lets the response carry TLVs such as `additional_status_info_text`.
    pub tlvs: Tlvs,
}

impl SubmitMultiResp {
    /// A successful response carrying the message id, with no failed destinations.
    pub fn new(message_id: COctetString<65>) -> SubmitMultiResp {
        SubmitMultiResp {
            message_id: Some(message_id),
            ..SubmitMultiResp::default()
        }
    }

    /// The body of an error response, left out.
    pub fn empty() -> SubmitMultiResp {
        SubmitMultiResp::default()
    }

    pub(crate) fn parse<'a>(
        src: &'a Bytes,
        empty_error: bool,
    ) -> impl Fn(&'a [u8]) -> PResult<'a, SubmitMultiResp> {
        move |i| {
            if empty_error {
                return Ok((i, SubmitMultiResp::empty()));
            }
            let (i, message_id) = c_octet("message_id", CommandStatus::ESME_RINVMSGID)(i)?;
            let (i, no_unsuccess) = u8_field("no_unsuccess")(i)?;
            let (i, unsuccess_smes) =
                counted(no_unsuccess, "no_unsuccess", UnsuccessSme::parse())(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            Ok((
                i,
                SubmitMultiResp {
                    message_id: Some(message_id),
                    unsuccess_smes,
                    tlvs,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.message_id.as_ref().map_or(0, |m| {
            m.encoded_len()
                + 1
                + self
                    .unsuccess_smes
                    .iter()
                    .map(UnsuccessSme::encoded_len)
                    .sum::<usize>()
                + self.tlvs.encoded_len()
        })
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        if let Some(m) = &self.message_id {
            m.encode(out);
            out.put_u8(self.unsuccess_smes.count());
            for u in &self.unsuccess_smes {
                u.encode(out);
            }
            self.tlvs.encode(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::types::{Npi, Ton};
    use crate::CommandId;

    // service_type "", source 5/0 "ACME", two destinations (SME 1/1 "4915112345678", list "staff"), esm_class 0,
    // protocol_id 0, priority 1, no times, registered_delivery 1, replace 0, data_coding 0, default msg 0, "Hi".
    const SUBMIT_MULTI: &str = concat!(
        "0000003d",
        "00000021",
        "00000000",
        "00000005",
        "00",
        "050041434d4500",
        "02",
        "01010134393135313132333435363738",
        "00",
        "02737461666600",
        "00",
        "00",
        "01",
        "00",
        "00",
        "01",
        "00",
        "00",
        "00",
        "02",
        "4869",
    );

    #[test]
    fn submit_multi_to_an_sme_and_a_list_round_trips() {
        let pdu = round_trip(SUBMIT_MULTI);
        let Body::SubmitMulti(sm) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(sm.source_addr.ton, Ton::ALPHANUMERIC);
        assert_eq!(sm.dest_addrs.len(), 2);
        let DestAddress::Sme(a) = &sm.dest_addrs[0] else {
            panic!("{sm:?}")
        };
        assert_eq!((a.ton, a.npi), (Ton::INTERNATIONAL, Npi::ISDN));
        assert_eq!(a.addr, "4915112345678");
        assert_eq!(
            sm.dest_addrs[1],
            DestAddress::DistributionList(COctetString::try_from("staff").unwrap())
        );
        assert_eq!(sm.payload(), b"Hi");
    }

    #[test]
    fn unknown_dest_flag_answers_invalid_destination_flag() {
        let e = Pdu::decode(frame(
            0x21,
            0,
            5,
            "00050041434d45000103737461666600000000000000000000000000",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVDESTFLAG);
        let resp = e.response().unwrap();
        assert_eq!(resp.command_id(), CommandId::SUBMIT_MULTI_RESP);
        assert_eq!(resp.body, Body::SubmitMultiResp(SubmitMultiResp::empty()));
    }

    #[test]
    fn zero_destinations_answers_invalid_number_of_destinations() {
        let e =
            Pdu::decode(frame(0x21, 0, 5, "00050041434d45000000000000000000000000")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVNUMDESTS);
    }

    #[test]
    fn more_than_254_destinations_answers_invalid_number_of_destinations() {
        let e = Pdu::decode(frame(0x21, 0, 5, "00050041434d4500ff")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVNUMDESTS);
        assert_eq!(e.field, "number_of_dests");
    }

    #[test]
    fn too_long_distribution_list_name_answers_invalid_dl_name() {
        // A dl_name holds 20 characters and its NUL; this one has 21.
        let e = Pdu::decode(frame(
            0x21,
            0,
            5,
            "00050041434d450001024142434445464748494a4b4c4d4e4f50515253545500",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVDLNAME);
    }

    #[test]
    fn too_long_sme_destination_answers_invalid_destination_address() {
        let e = Pdu::decode(frame(
            0x21,
            0,
            5,
            "00050041434d4500010101013031323334353637383930313233343536373839303000",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVDSTADR);
    }

    #[test]
    fn submit_multi_resp_lists_the_failed_destinations() {
        // message_id "M1", one failure: 1/1 "4915" rejected with ESME_RINVDSTADR (0x0B).
        let pdu = round_trip(concat!(
            "0000001f",
            "80000021",
            "00000000",
            "00000005",
            "4d3100",
            "01",
            "01013439313500",
            "0000000b",
        ));
        let Body::SubmitMultiResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(r.message_id.unwrap(), "M1");
        assert_eq!(r.unsuccess_smes.len(), 1);
        assert_eq!(r.unsuccess_smes[0].dest_addr.addr, "4915");
        assert_eq!(
            r.unsuccess_smes[0].error_status_code,
            CommandStatus::ESME_RINVDSTADR
        );
    }

    #[test]
    fn submit_multi_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800000210000003300000005");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RINVNUMDESTS);
        assert_eq!(pdu.body, Body::SubmitMultiResp(SubmitMultiResp::empty()));
    }

    #[test]
    fn counted_lists_refuse_more_than_254_entries() {
        assert_eq!(
            UnsuccessSmes::new(vec![
                UnsuccessSme {
                    dest_addr: Address::default(),
                    error_status_code: CommandStatus::ESME_ROK,
                };
                255
            ]),
            Err(CommandStatus::ESME_RINVNUMDESTS)
        );
        assert_eq!(
            DestAddresses::new(Vec::new()),
            Err(CommandStatus::ESME_RINVNUMDESTS)
        );
    }
}
