//! The bind family (SMPP 3.4 §4.1): bind_transmitter / bind_receiver / bind_transceiver, their responses, and outbind.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{self, c_octet, u8_field, PResult};
use crate::tlv::Tlvs;
use crate::types::{COctetString, Npi, Ton};
use crate::CommandStatus;

/// The longest password accepted, in octets (the spec says 8; see [`Bind::password`]).
pub const PASSWORD_MAX: usize = 64;
/// The password field's bound including its terminating NUL.
const PASSWORD_LEN: usize = PASSWORD_MAX + 1;

/// The body shared by the three bind requests (SMPP 3.4 §4.1.1, §4.1.3, §4.1.5).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Bind {
    /// Identifies the ESME to the SMSC.
    pub system_id: COctetString<16>,
    /// The ESME's password. SMPP 3.4 §4.1.1 allows 8 octets plus the NUL; real ESMEs and SMSCs (Kannel, Jasmin, carriers)
    /// send longer ones, so the bound here is [`PASSWORD_MAX`] octets plus the NUL.
    pub password: COctetString<PASSWORD_LEN>,
    /// The kind of ESME (often empty).
    pub system_type: COctetString<13>,
    /// The SMPP version the ESME speaks: 0x34 for 3.4, 0x50 for 5.0.
    pub interface_version: u8,
    /// TON of `address_range`.
    pub addr_ton: Ton,
    /// NPI of `address_range`.
    pub addr_npi: Npi,
    /// The addresses this ESME serves, as a regular expression (SMPP 3.4 §5.2.7).
    pub address_range: COctetString<41>,
}

impl Bind {
    pub(crate) fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, Bind> {
        move |i| {
            let (i, system_id) = c_octet("system_id", CommandStatus::ESME_RINVSYSID)(i)?;
            let (i, password) = c_octet("password", CommandStatus::ESME_RINVPASWD)(i)?;
            let (i, system_type) = c_octet("system_type", CommandStatus::ESME_RINVSYSTYP)(i)?;
            let (i, interface_version) = u8_field("interface_version")(i)?;
            let (i, addr_ton) = u8_field("addr_ton")(i)?;
            let (i, addr_npi) = u8_field("addr_npi")(i)?;
            let (i, address_range) = c_octet("address_range", CommandStatus::ESME_RINVCMDLEN)(i)?;
            let (i, ()) = codec::end(i)?;
            let bind = Bind {
                system_id,
                password,
                system_type,
                interface_version,
                addr_ton: Ton(addr_ton),
                addr_npi: Npi(addr_npi),
                address_range,
            };
            Ok((i, bind))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.system_id.encoded_len()
            + self.password.encoded_len()
            + self.system_type.encoded_len()
            + 3
            + self.address_range.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.system_id.encode(out);
        self.password.encode(out);
        self.system_type.encode(out);
        out.put_u8(self.interface_version);
        out.put_u8(self.addr_ton.0);
        out.put_u8(self.addr_npi.0);
        self.address_range.encode(out);
    }
}

/// The body of the three bind responses (SMPP 3.4 §4.1.2, §4.1.4, §4.1.6).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BindResp {
    /// The SMSC's id; `None` when an error response left the body out.
    pub system_id: Option<COctetString<16>>,
    /// Optional parameters; `sc_interface_version` tells the SMSC's SMPP version.
    pub tlvs: Tlvs,
}

impl BindResp {
    /// A successful response naming the SMSC and its interface version (0x34).
    pub fn new(system_id: COctetString<16>) -> BindResp {
        let mut tlvs = Tlvs::new();
        tlvs.set_sc_interface_version(0x34);
        BindResp {
            system_id: Some(system_id),
            tlvs,
        }
    }

    /// The body of an error response, left out.
    pub fn empty() -> BindResp {
        BindResp {
            system_id: None,
            tlvs: Tlvs::new(),
        }
    }

    pub(crate) fn parse<'a>(
        src: &'a Bytes,
        empty_error: bool,
    ) -> impl Fn(&'a [u8]) -> PResult<'a, BindResp> {
        move |i| {
            if empty_error {
                return Ok((i, BindResp::empty()));
            }
            let (i, system_id) = c_octet("system_id", CommandStatus::ESME_RINVSYSID)(i)?;
            let (i, tlvs) = codec::tlvs(src)(i)?;
            Ok((
                i,
                BindResp {
                    system_id: Some(system_id),
                    tlvs,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.system_id
            .as_ref()
            .map_or(0, |s| s.encoded_len() + self.tlvs.encoded_len())
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        if let Some(s) = &self.system_id {
            s.encode(out);
            self.tlvs.encode(out);
        }
    }
}

/// `outbind` (SMPP 3.4 §4.1.7): an SMSC asks an ESME to bind as a receiver.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outbind {
    /// The SMSC's id.
    pub system_id: COctetString<16>,
    /// The password the ESME expects (bounded like [`Bind::password`]).
    pub password: COctetString<PASSWORD_LEN>,
}

impl Outbind {
    pub(crate) fn parse<'a>() -> impl Fn(&'a [u8]) -> PResult<'a, Outbind> {
        move |i| {
            let (i, system_id) = c_octet("system_id", CommandStatus::ESME_RINVSYSID)(i)?;
            let (i, password) = c_octet("password", CommandStatus::ESME_RINVPASWD)(i)?;
            let (i, ()) = codec::end(i)?;
            Ok((
                i,
                Outbind {
                    system_id,
                    password,
                },
            ))
        }
    }

    pub(crate) fn encoded_len(&self) -> usize {
        self.system_id.encoded_len() + self.password.encoded_len()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        self.system_id.encode(out);
        self.password.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use crate::pdu::test_support::*;
    use crate::pdu::{Body, Pdu};
    use crate::CommandStatus;

    #[test]
    fn smpplib_bind_transceiver_round_trips() {
        let pdu = round_trip("0000001c00000009000000000000000264656d6f0078000034000000");
        let Body::BindTransceiver(b) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(b.system_id, "demo");
        assert_eq!(b.password, "x");
        assert_eq!(b.interface_version, 0x34);
    }

    #[test]
    fn node_smpp_bind_transceiver_resp_round_trips() {
        let pdu = round_trip("00000018800000090000000000000002524546534d534300");
        let Body::BindTransceiverResp(b) = pdu.body else {
            panic!("{pdu:?}")
        };
        assert_eq!(b.system_id.unwrap(), "REFSMSC");
    }

    #[test]
    fn bind_resp_error_without_a_body_round_trips() {
        let pdu = round_trip("00000010800000090000000d00000002");
        assert_eq!(pdu.command_status, CommandStatus::ESME_RBINDFAIL);
        assert_eq!(
            pdu.body,
            Body::BindTransceiverResp(super::BindResp::empty())
        );
    }

    #[test]
    fn too_long_system_id_answers_invalid_system_id() {
        let e = Pdu::decode(frame(
            0x02,
            0,
            1,
            "3031323334353637383930313233343536000000340000",
        ))
        .unwrap_err();
        assert_eq!(e.status, CommandStatus::ESME_RINVSYSID);
        let resp = e.response().unwrap();
        assert_eq!(resp.command_id(), crate::CommandId::BIND_TRANSMITTER_RESP);
    }
}
