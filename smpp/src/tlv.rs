//! Optional parameters (TLVs, SMPP 3.4 §3.2.4 and §5.3; SMPP 5.0 §4.8).
//!
//! TLVs are kept in wire order as raw values, so unknown and vendor tags survive decode and re-encode byte for byte. Tags
//! whose value has a fixed size are checked when decoded (`ESME_RINVTLVLEN`), so the typed accessors never see a short value.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use crate::CommandStatus;

/// A TLV tag as an open newtype.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TlvTag(pub u16);

/// How long a standard TLV's value may be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TlvLength {
    /// Exactly this many octets.
    Fixed(usize),
    /// One of two sizes (SMPP 5.0's `ms_validity` is 1 or 4 octets, `alert_on_message_delivery` 0 or 1).
    Either(usize, usize),
    /// Any length up to this many octets.
    UpTo(usize),
}

macro_rules! tlv_tags {
    ($($name:ident = $value:expr, $text:expr, $len:expr;)*) => {
        impl TlvTag {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $name: TlvTag = TlvTag($value);
            )*

            /// The spec's name for this tag, or `None` for an unknown or vendor tag.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }

            /// The length the spec allows for this tag's value, or `None` for an unknown tag.
            pub fn length(self) -> Option<TlvLength> {
                use TlvLength::*;
                match self.0 {
                    $($value => Some($len),)*
                    _ => None,
                }
            }
        }
    };
}

tlv_tags! {
    DEST_ADDR_SUBUNIT = 0x0005, "dest_addr_subunit", Fixed(1);
    DEST_NETWORK_TYPE = 0x0006, "dest_network_type", Fixed(1);
    DEST_BEARER_TYPE = 0x0007, "dest_bearer_type", Fixed(1);
    DEST_TELEMATICS_ID = 0x0008, "dest_telematics_id", Fixed(2);
    SOURCE_ADDR_SUBUNIT = 0x000D, "source_addr_subunit", Fixed(1);
    SOURCE_NETWORK_TYPE = 0x000E, "source_network_type", Fixed(1);
    SOURCE_BEARER_TYPE = 0x000F, "source_bearer_type", Fixed(1);
    SOURCE_TELEMATICS_ID = 0x0010, "source_telematics_id", Either(1, 2);
    QOS_TIME_TO_LIVE = 0x0017, "qos_time_to_live", Fixed(4);
    PAYLOAD_TYPE = 0x0019, "payload_type", Fixed(1);
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D, "additional_status_info_text", UpTo(256);
    RECEIPTED_MESSAGE_ID = 0x001E, "receipted_message_id", UpTo(65);
    MS_MSG_WAIT_FACILITIES = 0x0030, "ms_msg_wait_facilities", Fixed(1);
    PRIVACY_INDICATOR = 0x0201, "privacy_indicator", Fixed(1);
    SOURCE_SUBADDRESS = 0x0202, "source_subaddress", UpTo(23);
    DEST_SUBADDRESS = 0x0203, "dest_subaddress", UpTo(23);
    USER_MESSAGE_REFERENCE = 0x0204, "user_message_reference", Fixed(2);
    USER_RESPONSE_CODE = 0x0205, "user_response_code", Fixed(1);
    SOURCE_PORT = 0x020A, "source_port", Fixed(2);
    DESTINATION_PORT = 0x020B, "destination_port", Fixed(2);
    SAR_MSG_REF_NUM = 0x020C, "sar_msg_ref_num", Fixed(2);
    LANGUAGE_INDICATOR = 0x020D, "language_indicator", Fixed(1);
    SAR_TOTAL_SEGMENTS = 0x020E, "sar_total_segments", Fixed(1);
    SAR_SEGMENT_SEQNUM = 0x020F, "sar_segment_seqnum", Fixed(1);
    SC_INTERFACE_VERSION = 0x0210, "sc_interface_version", Fixed(1);
    CALLBACK_NUM_PRES_IND = 0x0302, "callback_num_pres_ind", Fixed(1);
    CALLBACK_NUM_ATAG = 0x0303, "callback_num_atag", UpTo(65);
    NUMBER_OF_MESSAGES = 0x0304, "number_of_messages", Fixed(1);
    CALLBACK_NUM = 0x0381, "callback_num", UpTo(19);
    DPF_RESULT = 0x0420, "dpf_result", Fixed(1);
    SET_DPF = 0x0421, "set_dpf", Fixed(1);
    MS_AVAILABILITY_STATUS = 0x0422, "ms_availability_status", Fixed(1);
    NETWORK_ERROR_CODE = 0x0423, "network_error_code", Fixed(3);
    MESSAGE_PAYLOAD = 0x0424, "message_payload", UpTo(65535);
    DELIVERY_FAILURE_REASON = 0x0425, "delivery_failure_reason", Fixed(1);
    MORE_MESSAGES_TO_SEND = 0x0426, "more_messages_to_send", Fixed(1);
    MESSAGE_STATE = 0x0427, "message_state", Fixed(1);
    CONGESTION_STATE = 0x0428, "congestion_state", Fixed(1);
    USSD_SERVICE_OP = 0x0501, "ussd_service_op", Fixed(1);
    BROADCAST_CHANNEL_INDICATOR = 0x0600, "broadcast_channel_indicator", Fixed(1);
    BROADCAST_CONTENT_TYPE = 0x0601, "broadcast_content_type", Fixed(3);
    BROADCAST_CONTENT_TYPE_INFO = 0x0602, "broadcast_content_type_info", UpTo(255);
    BROADCAST_MESSAGE_CLASS = 0x0603, "broadcast_message_class", Fixed(1);
    BROADCAST_REP_NUM = 0x0604, "broadcast_rep_num", Fixed(2);
    BROADCAST_FREQUENCY_INTERVAL = 0x0605, "broadcast_frequency_interval", Fixed(3);
    BROADCAST_AREA_IDENTIFIER = 0x0606, "broadcast_area_identifier", UpTo(100);
    BROADCAST_ERROR_STATUS = 0x0607, "broadcast_error_status", Fixed(4);
    BROADCAST_AREA_SUCCESS = 0x0608, "broadcast_area_success", Fixed(1);
    BROADCAST_END_TIME = 0x0609, "broadcast_end_time", UpTo(17);
    BROADCAST_SERVICE_GROUP = 0x060A, "broadcast_service_group", UpTo(255);
    BILLING_IDENTIFICATION = 0x060B, "billing_identification", UpTo(1024);
    SOURCE_NETWORK_ID = 0x060D, "source_network_id", UpTo(65);
    DEST_NETWORK_ID = 0x060E, "dest_network_id", UpTo(65);
    SOURCE_NODE_ID = 0x060F, "source_node_id", Fixed(6);
    DEST_NODE_ID = 0x0610, "dest_node_id", Fixed(6);
    DEST_ADDR_NP_RESOLUTION = 0x0611, "dest_addr_np_resolution", Fixed(1);
    DEST_ADDR_NP_INFORMATION = 0x0612, "dest_addr_np_information", Fixed(10);
    DEST_ADDR_NP_COUNTRY = 0x0613, "dest_addr_np_country", UpTo(5);
    DISPLAY_TIME = 0x1201, "display_time", Fixed(1);
    SMS_SIGNAL = 0x1203, "sms_signal", Fixed(2);
    MS_VALIDITY = 0x1204, "ms_validity", Either(1, 4);
    ALERT_ON_MESSAGE_DELIVERY = 0x130C, "alert_on_message_delivery", Either(0, 1);
    ITS_REPLY_TYPE = 0x1380, "its_reply_type", Fixed(1);
    ITS_SESSION_INFO = 0x1383, "its_session_info", Fixed(2);
}

impl TlvTag {
    /// Checks a value's length against the spec; `Err(ESME_RINVTLVLEN)` when a standard tag's value has the wrong size.
    pub fn check_length(self, len: usize) -> Result<(), CommandStatus> {
        let ok = match self.length() {
            None => true,
            Some(TlvLength::Fixed(n)) => len == n,
            Some(TlvLength::Either(a, b)) => len == a || len == b,
            Some(TlvLength::UpTo(n)) => len <= n,
        };
        if ok {
            Ok(())
        } else {
            Err(CommandStatus::ESME_RINVTLVLEN)
        }
    }
}

impl fmt::Debug for TlvTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "TlvTag({:#06x})", self.0),
        }
    }
}

/// One optional parameter: its tag and raw value.
#[derive(Clone, PartialEq, Eq)]
pub struct Tlv {
    /// The tag.
    pub tag: TlvTag,
    /// The value octets, as on the wire.
    pub value: Bytes,
}

impl fmt::Debug for Tlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}={:02x?}", self.tag, &self.value[..])
    }
}

/// `network_error_code` (SMPP 3.4 §5.3.2.31): the network type (1 ANSI-136, 2 IS-95, 3 GSM, …) and its error code.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NetworkErrorCode {
    /// Network type.
    pub network_type: u8,
    /// The network's error code.
    pub code: u16,
}

/// The TLVs of one PDU, in wire order.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Tlvs(Vec<Tlv>);

impl fmt::Debug for Tlvs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl Tlvs {
    /// No TLVs.
    pub const fn new() -> Self {
        Tlvs(Vec::new())
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of TLVs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The TLVs in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Tlv> {
        self.0.iter()
    }

    /// The raw value of the first TLV with this tag.
    pub fn get(&self, tag: TlvTag) -> Option<&Bytes> {
        self.0.iter().find(|t| t.tag == tag).map(|t| &t.value)
    }

    /// Sets a TLV: replaces the first with this tag, or appends one. Fails when a standard tag's value has the wrong size.
    pub fn set(&mut self, tag: TlvTag, value: impl Into<Bytes>) -> Result<(), CommandStatus> {
        let value = value.into();
        tag.check_length(value.len())?;
        match self.0.iter_mut().find(|t| t.tag == tag) {
            Some(t) => t.value = value,
            None => self.0.push(Tlv { tag, value }),
        }
        Ok(())
    }

    /// Appends a TLV as received, keeping duplicates; used by the decoder.
    pub(crate) fn push(&mut self, tlv: Tlv) {
        self.0.push(tlv);
    }

    /// Removes every TLV with this tag, returning the first value.
    pub fn remove(&mut self, tag: TlvTag) -> Option<Bytes> {
        let first = self.get(tag).cloned();
        self.0.retain(|t| t.tag != tag);
        first
    }

    /// Octets on the wire.
    pub fn encoded_len(&self) -> usize {
        self.0.iter().map(|t| 4 + t.value.len()).sum()
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        for t in &self.0 {
            out.put_u16(t.tag.0);
            // The decoder and `set` bound every value to 65535 octets, the most a two-octet length can say.
            out.put_u16(t.value.len() as u16);
            out.put_slice(&t.value);
        }
    }

    fn u8_of(&self, tag: TlvTag) -> Option<u8> {
        self.get(tag).and_then(|v| v.first().copied())
    }

    fn u16_of(&self, tag: TlvTag) -> Option<u16> {
        self.get(tag)
            .and_then(|v| Some(u16::from_be_bytes([*v.first()?, *v.get(1)?])))
    }

    /// A C-string TLV's octets, without the NUL; tolerant of peers that leave the NUL out.
    fn c_str_of(&self, tag: TlvTag) -> Option<&[u8]> {
        self.get(tag).map(|v| match v.iter().position(|&b| b == 0) {
            Some(end) => &v[..end],
            None => &v[..],
        })
    }

    fn set_c_str(&mut self, tag: TlvTag, value: &[u8]) -> Result<(), CommandStatus> {
        let mut v = BytesMut::with_capacity(value.len() + 1);
        v.put_slice(value);
        v.put_u8(0);
        self.set(tag, v.freeze())
    }

    /// `receipted_message_id`: the SMSC's id of the message a receipt is about.
    pub fn receipted_message_id(&self) -> Option<&[u8]> {
        self.c_str_of(TlvTag::RECEIPTED_MESSAGE_ID)
    }

    /// Sets `receipted_message_id` (NUL added).
    pub fn set_receipted_message_id(&mut self, id: &[u8]) -> Result<(), CommandStatus> {
        self.set_c_str(TlvTag::RECEIPTED_MESSAGE_ID, id)
    }

    /// `message_state` (SMPP 3.4 §5.2.28): 1 ENROUTE … 8 REJECTED.
    pub fn message_state(&self) -> Option<u8> {
        self.u8_of(TlvTag::MESSAGE_STATE)
    }

    /// Sets `message_state`.
    pub fn set_message_state(&mut self, state: u8) {
        self.set(TlvTag::MESSAGE_STATE, Bytes::copy_from_slice(&[state]))
            .expect("one octet fits");
    }

    /// `network_error_code`.
    pub fn network_error_code(&self) -> Option<NetworkErrorCode> {
        let v = self.get(TlvTag::NETWORK_ERROR_CODE)?;
        Some(NetworkErrorCode {
            network_type: *v.first()?,
            code: u16::from_be_bytes([*v.get(1)?, *v.get(2)?]),
        })
    }

    /// Sets `network_error_code`.
    pub fn set_network_error_code(&mut self, e: NetworkErrorCode) {
        let [hi, lo] = e.code.to_be_bytes();
        self.set(
            TlvTag::NETWORK_ERROR_CODE,
            Bytes::copy_from_slice(&[e.network_type, hi, lo]),
        )
        .expect("three octets fit");
    }

    /// `sar_msg_ref_num`: the reference shared by every segment of one long message.
    pub fn sar_msg_ref_num(&self) -> Option<u16> {
        self.u16_of(TlvTag::SAR_MSG_REF_NUM)
    }

    /// `sar_total_segments`.
    pub fn sar_total_segments(&self) -> Option<u8> {
        self.u8_of(TlvTag::SAR_TOTAL_SEGMENTS)
    }

    /// `sar_segment_seqnum` (1-based).
    pub fn sar_segment_seqnum(&self) -> Option<u8> {
        self.u8_of(TlvTag::SAR_SEGMENT_SEQNUM)
    }

    /// Sets the three SAR TLVs of one segment.
    pub fn set_sar(&mut self, reference: u16, total: u8, seqnum: u8) {
        self.set(
            TlvTag::SAR_MSG_REF_NUM,
            Bytes::copy_from_slice(&reference.to_be_bytes()),
        )
        .expect("fits");
        self.set(TlvTag::SAR_TOTAL_SEGMENTS, Bytes::copy_from_slice(&[total]))
            .expect("fits");
        self.set(
            TlvTag::SAR_SEGMENT_SEQNUM,
            Bytes::copy_from_slice(&[seqnum]),
        )
        .expect("fits");
    }

    /// `message_payload`: the message text when it does not fit `short_message`.
    pub fn message_payload(&self) -> Option<&Bytes> {
        self.get(TlvTag::MESSAGE_PAYLOAD)
    }

    /// `user_message_reference`: the ESME's own reference for the message.
    pub fn user_message_reference(&self) -> Option<u16> {
        self.u16_of(TlvTag::USER_MESSAGE_REFERENCE)
    }

    /// `source_port` (WAP / application port addressing).
    pub fn source_port(&self) -> Option<u16> {
        self.u16_of(TlvTag::SOURCE_PORT)
    }

    /// `destination_port`.
    pub fn destination_port(&self) -> Option<u16> {
        self.u16_of(TlvTag::DESTINATION_PORT)
    }

    /// `sc_interface_version`, carried by bind responses: 0x34 for SMPP 3.4, 0x50 for 5.0.
    pub fn sc_interface_version(&self) -> Option<u8> {
        self.u8_of(TlvTag::SC_INTERFACE_VERSION)
    }

    /// Sets `sc_interface_version`.
    pub fn set_sc_interface_version(&mut self, version: u8) {
        self.set(
            TlvTag::SC_INTERFACE_VERSION,
            Bytes::copy_from_slice(&[version]),
        )
        .expect("fits");
    }

    /// `congestion_state` (SMPP 5.0 §4.8.4.17): 0 idle … 100 congested.
    pub fn congestion_state(&self) -> Option<u8> {
        self.u8_of(TlvTag::CONGESTION_STATE)
    }

    /// `payload_type`: 0 default, 1 WCMP.
    pub fn payload_type(&self) -> Option<u8> {
        self.u8_of(TlvTag::PAYLOAD_TYPE)
    }

    /// `callback_num`: digit mode, TON, NPI and the number.
    pub fn callback_num(&self) -> Option<&Bytes> {
        self.get(TlvTag::CALLBACK_NUM)
    }

    /// `language_indicator`.
    pub fn language_indicator(&self) -> Option<u8> {
        self.u8_of(TlvTag::LANGUAGE_INDICATOR)
    }

    /// `ms_validity`'s behaviour octet (its first; SMPP 5.0 may add a three-octet time).
    pub fn ms_validity(&self) -> Option<u8> {
        self.u8_of(TlvTag::MS_VALIDITY)
    }

    /// `more_messages_to_send`: 1 when the ESME has more to send to the same destination.
    pub fn more_messages_to_send(&self) -> Option<u8> {
        self.u8_of(TlvTag::MORE_MESSAGES_TO_SEND)
    }
}

impl FromIterator<Tlv> for Tlvs {
    fn from_iter<I: IntoIterator<Item = Tlv>>(iter: I) -> Self {
        Tlvs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_tags_reject_wrong_lengths() {
        assert_eq!(
            TlvTag::MESSAGE_STATE.check_length(2),
            Err(CommandStatus::ESME_RINVTLVLEN)
        );
        assert_eq!(TlvTag::MS_VALIDITY.check_length(4), Ok(()));
        assert_eq!(TlvTag(0x1400).check_length(9000), Ok(()));
    }

    #[test]
    fn typed_accessors_read_what_setters_wrote() {
        let mut t = Tlvs::new();
        t.set_receipted_message_id(b"1A2B").unwrap();
        t.set_message_state(2);
        t.set_sar(0x1234, 3, 1);
        t.set_network_error_code(NetworkErrorCode {
            network_type: 3,
            code: 0x0102,
        });
        assert_eq!(t.receipted_message_id(), Some(&b"1A2B"[..]));
        assert_eq!(t.message_state(), Some(2));
        assert_eq!(
            (
                t.sar_msg_ref_num(),
                t.sar_total_segments(),
                t.sar_segment_seqnum()
            ),
            (Some(0x1234), Some(3), Some(1))
        );
        assert_eq!(
            t.network_error_code(),
            Some(NetworkErrorCode {
                network_type: 3,
                code: 0x0102
            })
        );
        let mut out = BytesMut::new();
        t.encode(&mut out);
        assert_eq!(out.len(), t.encoded_len());
    }

    #[test]
    fn receipted_message_id_tolerates_a_missing_nul() {
        let t: Tlvs = [Tlv {
            tag: TlvTag::RECEIPTED_MESSAGE_ID,
            value: Bytes::from_static(b"abc"),
        }]
        .into_iter()
        .collect();
        assert_eq!(t.receipted_message_id(), Some(&b"abc"[..]));
    }
}
