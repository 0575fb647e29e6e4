//! `command_id` values (SMPP 3.4 §5.1.2.1, SMPP 5.0 §4.7.5) as an open newtype, so unknown ids survive.

use std::fmt;

/// The `command_id` of a PDU; the high bit marks a response.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub u32);

macro_rules! command_ids {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl CommandId {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $name: CommandId = CommandId($value);
            )*

            /// The spec's name for this id, or `None` for an id SMPP does not define.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

command_ids! {
    GENERIC_NACK = 0x8000_0000, "generic_nack";
    BIND_RECEIVER = 0x0000_0001, "bind_receiver";
    BIND_RECEIVER_RESP = 0x8000_0001, "bind_receiver_resp";
    BIND_TRANSMITTER = 0x0000_0002, "bind_transmitter";
    BIND_TRANSMITTER_RESP = 0x8000_0002, "bind_transmitter_resp";
    QUERY_SM = 0x0000_0003, "query_sm";
    QUERY_SM_RESP = 0x8000_0003, "query_sm_resp";
    SUBMIT_SM = 0x0000_0004, "submit_sm";
    SUBMIT_SM_RESP = 0x8000_0004, "submit_sm_resp";
    DELIVER_SM = 0x0000_0005, "deliver_sm";
    DELIVER_SM_RESP = 0x8000_0005, "deliver_sm_resp";
    UNBIND = 0x0000_0006, "unbind";
    UNBIND_RESP = 0x8000_0006, "unbind_resp";
    REPLACE_SM = 0x0000_0007, "replace_sm";
    REPLACE_SM_RESP = 0x8000_0007, "replace_sm_resp";
    CANCEL_SM = 0x0000_0008, "cancel_sm";
    CANCEL_SM_RESP = 0x8000_0008, "cancel_sm_resp";
    BIND_TRANSCEIVER = 0x0000_0009, "bind_transceiver";
    BIND_TRANSCEIVER_RESP = 0x8000_0009, "bind_transceiver_resp";
    OUTBIND = 0x0000_000B, "outbind";
    ENQUIRE_LINK = 0x0000_0015, "enquire_link";
    ENQUIRE_LINK_RESP = 0x8000_0015, "enquire_link_resp";
    SUBMIT_MULTI = 0x0000_0021, "submit_multi";
    SUBMIT_MULTI_RESP = 0x8000_0021, "submit_multi_resp";
    ALERT_NOTIFICATION = 0x0000_0102, "alert_notification";
    DATA_SM = 0x0000_0103, "data_sm";
    DATA_SM_RESP = 0x8000_0103, "data_sm_resp";
    BROADCAST_SM = 0x0000_0111, "broadcast_sm";
    BROADCAST_SM_RESP = 0x8000_0111, "broadcast_sm_resp";
    QUERY_BROADCAST_SM = 0x0000_0112, "query_broadcast_sm";
    QUERY_BROADCAST_SM_RESP = 0x8000_0112, "query_broadcast_sm_resp";
    CANCEL_BROADCAST_SM = 0x0000_0113, "cancel_broadcast_sm";
    CANCEL_BROADCAST_SM_RESP = 0x8000_0113, "cancel_broadcast_sm_resp";
}

impl CommandId {
    /// The bit that distinguishes a response from a request (SMPP 3.4 §5.1.2.1).
    pub const RESPONSE_BIT: u32 = 0x8000_0000;

    /// True for `*_resp` ids and `generic_nack`.
    pub fn is_response(self) -> bool {
        self.0 & Self::RESPONSE_BIT != 0
    }

    /// The id of the response to this request id (for `generic_nack` itself, `generic_nack`).
    pub fn response(self) -> CommandId {
        CommandId(self.0 | Self::RESPONSE_BIT)
    }

    /// The id of the request this response answers.
    pub fn request(self) -> CommandId {
        CommandId(self.0 & !Self::RESPONSE_BIT)
    }

    /// True when the spec defines a response PDU for this request (outbind and alert_notification have none).
    pub fn expects_response(self) -> bool {
        !self.is_response() && self != Self::OUTBIND && self != Self::ALERT_NOTIFICATION
    }
}

impl fmt::Debug for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CommandId({:#010x})", self.0),
        }
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_ids_have_the_high_bit() {
        assert_eq!(CommandId::SUBMIT_SM.response(), CommandId::SUBMIT_SM_RESP);
        assert_eq!(CommandId::SUBMIT_SM_RESP.request(), CommandId::SUBMIT_SM);
        assert!(CommandId::GENERIC_NACK.is_response());
        assert!(!CommandId::OUTBIND.expects_response());
        assert!(CommandId::ENQUIRE_LINK.expects_response());
    }

    #[test]
    fn unknown_ids_print_in_hex() {
        assert_eq!(format!("{:?}", CommandId(0x1234)), "CommandId(0x00001234)");
        assert_eq!(CommandId::DATA_SM.to_string(), "data_sm");
    }
}
