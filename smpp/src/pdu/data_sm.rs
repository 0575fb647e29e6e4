//! data_sm and data_sm_resp (SMPP 3.4 §4.7): a message in either direction whose content travels in TLVs.

use bytes::{BufMut, Bytes, BytesMut};

use super::submit_sm::SubmitSmResp;
use crate::codec::{self, address, c_octet, u8_field, PResult};
use crate::tlv::Tlvs;
use crate::types::{Address, COctetString, DataCoding, EsmClass, RegisteredDelivery};
use crate::CommandStatus;

/// The body of `data_sm` (SMPP 3.4 §4.7.1). Its addresses are longer than submit_sm's: up to 64 characters, for
/// IP and WAP addressing.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DataSm {
    /// The service this message belongs to (empty for the SMSC default).
    pub service_type: COctetString<6>,
    /// The sender.
    pub source_addr: Address<65>,
    /// The recipient.
    pub dest_addr: Address<65>,
    /// Messaging mode, message type and UDH indicator.
    pub esm_class: EsmClass,
    /// Which receipts are wanted.
    pub registered_delivery: RegisteredDelivery,
    /// The alphabet of the payload.
    pub data_coding: DataCoding,
    /// Optional parameters; the message itself is `message_payload`.
    pub tlvs: Tlvs,
}

impl DataSm {
    pub(crate) fn parse<'a>(src: &'a Bytes) -> impl Fn(&'a [u8]) -> PResult<'a, DataSm> {
        move |i| {
            let (i, service_type) = c_octet("service_type", CommandStatus::ESME_RINVSERTYP)(i)?;
            let (i, source_addr) = address("source_addr", CommandStatus::ESME_RINVSRCADR)(i)?;
            let (i, dest_addr) = address("destination_addr", CommandStatus::ESME_RINVDSTADR)(i)?;
            let (i, esm_class) = u8_field("esm_class")(i)?;
            let (i, registered_delivery) = u8_field("registered_delivery")(i)?;
            let (i, data_coding) = u8_field("data_coding")(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            let sm = DataSm {
                service_type,
                source_addr,
                dest_addr,
                esm_class: EsmClass(esm_class),
                registered_delivery: RegisteredDelivery(registered_delivery),
                data_coding: DataCoding(data_coding),
                tlvs,
            };
            Ok((i, sm))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.service_type.encoded_len()
            + self.source_addr.encoded_len()
            + self.dest_addr.encoded_len()
            + 3
            + self.tlvs.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.service_type.encode(out);
        self.source_addr.encode(out);
        self.dest_addr.encode(out);
        out.put_u8(self.esm_class.0);
        out.put_u8(self.registered_delivery.0);
        out.put_u8(self.data_coding.0);
        self.tlvs.encode(out);
    }

    /// The message octets: `message_payload`, or nothing when it is absent.
    pub fn payload(&self) -> &[u8] {
        self.tlvs.message_payload().map_or(&[], |p| p)
    }
}

/// The body of `data_sm_resp` (SMPP 3.4 §4.7.2): `message_id` and TLVs, as in submit_sm_resp.
pub type DataSmResp = SubmitSmResp;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::tlv::TlvTag;
    use crate::types::Ton;
    use crate::CommandId;

    #[test]
    fn data_sm_with_a_message_payload_round_trips() {
        // service_type "WAP", source 5/0 "ACME", dest 1/1 "4915", esm_class 0, registered_delivery 1, data_coding 0,
        // message_payload "Hi".
        let pdu = round_trip(concat!(
            "0000002b",
            "00000103",
            "00000000",
            "00000007",
            "57415000",
            "050041434d4500",
            "01013439313500",
            "00",
            "01",
            "00",
            "042400024869",
        ));
        let Body::DataSm(sm) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(sm.service_type, "WAP");
        assert_eq!(sm.source_addr.ton, Ton::ALPHANUMERIC);
        assert_eq!(sm.dest_addr.addr, "4915");
        assert_eq!(sm.payload(), b"Hi");
    }

    #[test]
    fn data_sm_takes_addresses_of_64_characters() {
        let long = "a".repeat(64);
        let sm = DataSm {
            source_addr: Address::new(Ton::ALPHANUMERIC, Default::default(), &long).unwrap(),
            ..DataSm::default()
        };
        let pdu = Pdu::new(crate::SequenceNumber(1), Body::DataSm(sm));
        assert_eq!(Pdu::decode(pdu.to_bytes()), Ok(pdu));
    }

    #[test]
    fn too_long_data_sm_source_answers_invalid_source_address() {
        let body = format!("00{}{}00", "0500", "61".repeat(65));
        let e = Pdu::decode(frame(0x103, 0, 7, &body)).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSRCADR);
        let resp = e.response().unwrap();
        assert_eq!(resp.command_id(), CommandId::DATA_SM_RESP);
    }

    #[test]
    fn too_long_data_sm_destination_answers_invalid_destination_address() {
        let body = format!("0005004100{}{}00", "0101", "31".repeat(65));
        let e = Pdu::decode(frame(0x103, 0, 7, &body)).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVDSTADR);
    }

    #[test]
    fn too_long_service_type_answers_invalid_service_type() {
        let e = Pdu::decode(frame(0x103, 0, 7, "4142434445460000004100000000000000")).unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSERTYP);
    }

    #[test]
    fn data_sm_resp_with_a_delivery_failure_reason_round_trips() {
        let pdu = round_trip(concat!(
            "0000001780000103000000fe00000007",
            "4900",
            "0425000102"
        ));
        let Body::DataSmResp(r) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(pdu.command_status, CommandStatus::ESME_RDELIVERYFAILURE);
        assert_eq!(r.message_id.unwrap(), "I");
        assert_eq!(
            r.tlvs.get(TlvTag::DELIVERY_FAILURE_REASON).map(|v| &v[..]),
            Some(&[2][..])
        );
    }

    #[test]
    fn data_sm_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800001030000000800000007");
        assert_eq!(pdu.body, Body::DataSmResp(DataSmResp::empty()));
    }
}
