//! `command_status` values (SMPP 3.4 §5.1.3, SMPP 5.0 §4.7.6) as an open newtype, so unknown values survive.

use std::fmt;

/// The `command_status` of a PDU: zero for success, an `ESME_R*` error code otherwise.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CommandStatus(pub u32);

macro_rules! statuses {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl CommandStatus {
            $(
                #[doc = $text]
                pub const $name: CommandStatus = CommandStatus($value);
            )*

            /// The spec's name (`ESME_RINVDSTADR`), or `None` for a value SMPP does not define.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// The spec's one-line description of this status, or `None` for an undefined value.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    ESME_ROK = 0x0000_0000, "No error";
    ESME_RINVMSGLEN = 0x0000_0001, "Message length is invalid";
    ESME_RINVCMDLEN = 0x0000_0002, "Command length is invalid";
    ESME_RINVCMDID = 0x0000_0003, "Invalid command ID";
    ESME_RINVBNDSTS = 0x0000_0004, "Incorrect bind status for given command";
    ESME_RALYBND = 0x0000_0005, "ESME already in bound state";
    ESME_RINVPRTFLG = 0x0000_0006, "Invalid priority flag";
    ESME_RINVREGDLVFLG = 0x0000_0007, "Invalid registered delivery flag";
    ESME_RSYSERR = 0x0000_0008, "System error";
    ESME_RINVSRCADR = 0x0000_000A, "Invalid source address";
    ESME_RINVDSTADR = 0x0000_000B, "Invalid destination address";
    ESME_RINVMSGID = 0x0000_000C, "Message ID is invalid";
    ESME_RBINDFAIL = 0x0000_000D, "Bind failed";
    ESME_RINVPASWD = 0x0000_000E, "Invalid password";
    ESME_RINVSYSID = 0x0000_000F, "Invalid system ID";
    ESME_RCANCELFAIL = 0x0000_0011, "Cancel SM failed";
    ESME_RREPLACEFAIL = 0x0000_0013, "Replace SM failed";
    ESME_RMSGQFUL = 0x0000_0014, "Message queue full";
    ESME_RINVSERTYP = 0x0000_0015, "Invalid service type";
    ESME_RINVNUMDESTS = 0x0000_0033, "Invalid number of destinations";
    ESME_RINVDLNAME = 0x0000_0034, "Invalid distribution list name";
    ESME_RINVDESTFLAG = 0x0000_0040, "Destination flag is invalid (submit_multi)";
    ESME_RINVSUBREP = 0x0000_0042, "Invalid submit with replace request";
    ESME_RINVESMCLASS = 0x0000_0043, "Invalid esm_class field data";
    ESME_RCNTSUBDL = 0x0000_0044, "Cannot submit to distribution list";
    ESME_RSUBMITFAIL = 0x0000_0045, "submit_sm or submit_multi failed";
    ESME_RINVSRCTON = 0x0000_0048, "Invalid source address TON";
    ESME_RINVSRCNPI = 0x0000_0049, "Invalid source address NPI";
    ESME_RINVDSTTON = 0x0000_0050, "Invalid destination address TON";
    ESME_RINVDSTNPI = 0x0000_0051, "Invalid destination address NPI";
    ESME_RINVSYSTYP = 0x0000_0053, "Invalid system_type field";
    ESME_RINVREPFLAG = 0x0000_0054, "Invalid replace_if_present flag";
    ESME_RINVNUMMSGS = 0x0000_0055, "Invalid number of messages";
    ESME_RTHROTTLED = 0x0000_0058, "Throttling error (ESME has exceeded allowed message limits)";
    ESME_RINVSCHED = 0x0000_0061, "Invalid scheduled delivery time";
    ESME_RINVEXPIRY = 0x0000_0062, "Invalid message validity period (expiry time)";
    ESME_RINVDFTMSGID = 0x0000_0063, "Predefined message invalid or not found";
    ESME_RX_T_APPN = 0x0000_0064, "ESME receiver temporary app error code";
    ESME_RX_P_APPN = 0x0000_0065, "ESME receiver permanent app error code";
    ESME_RX_R_APPN = 0x0000_0066, "ESME receiver reject message error code";
    ESME_RQUERYFAIL = 0x0000_0067, "query_sm request failed";
    ESME_RINVTLVSTREAM = 0x0000_00C0, "Error in the optional part of the PDU body";
    ESME_RTLVNOTALLWD = 0x0000_00C1, "TLV not allowed";
    ESME_RINVTLVLEN = 0x0000_00C2, "Invalid parameter length";
    ESME_RMISSINGTLV = 0x0000_00C3, "Expected TLV missing";
    ESME_RINVTLVVAL = 0x0000_00C4, "Invalid TLV value";
    ESME_RDELIVERYFAILURE = 0x0000_00FE, "Transaction delivery failure (data_sm_resp)";
    ESME_RUNKNOWNERR = 0x0000_00FF, "Unknown error";
    // SMPP 5.0 §4.7.6 additions.
    ESME_RSERTYPUNAUTH = 0x0000_0100, "ESME not authorised to use specified service_type";
    ESME_RPROHIBITED = 0x0000_0101, "ESME prohibited from using specified operation";
    ESME_RSERTYPUNAVAIL = 0x0000_0102, "Specified service_type is unavailable";
    ESME_RSERTYPDENIED = 0x0000_0103, "Specified service_type is denied";
    ESME_RINVDCS = 0x0000_0104, "Invalid data coding scheme";
    ESME_RINVSRCADDRSUBUNIT = 0x0000_0105, "Source address sub-unit is invalid";
    ESME_RINVDSTADDRSUBUNIT = 0x0000_0106, "Destination address sub-unit is invalid";
    ESME_RINVBCASTFREQINT = 0x0000_0107, "Broadcast frequency interval is invalid";
    ESME_RINVBCASTALIAS_NAME = 0x0000_0108, "Broadcast alias name is invalid";
    ESME_RINVBCASTAREAFMT = 0x0000_0109, "Broadcast area format is invalid";
    ESME_RINVNUMBCAST_AREAS = 0x0000_010A, "Number of broadcast areas is invalid";
    ESME_RINVBCASTCNTTYPE = 0x0000_010B, "Broadcast content type is invalid";
    ESME_RINVBCASTMSGCLASS = 0x0000_010C, "Broadcast message class is invalid";
    ESME_RBCASTFAIL = 0x0000_010D, "broadcast_sm operation failed";
    ESME_RBCASTQUERYFAIL = 0x0000_010E, "query_broadcast_sm operation failed";
    ESME_RBCASTCANCELFAIL = 0x0000_010F, "cancel_broadcast_sm operation failed";
    ESME_RINVBCAST_REP = 0x0000_0110, "Number of repeated broadcasts is invalid";
    ESME_RINVBCASTSRVGRP = 0x0000_0111, "Broadcast service group is invalid";
    ESME_RINVBCASTCHANIND = 0x0000_0112, "Broadcast channel indicator is invalid";
}

impl CommandStatus {
    /// True for `ESME_ROK`.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// True for statuses a sender should retry later rather than treat as a final rejection:
    /// throttling, a full queue and system or temporary application errors.
    pub fn is_temporary(self) -> bool {
        matches!(
            self,
            Self::ESME_RTHROTTLED | Self::ESME_RMSGQFUL | Self::ESME_RSYSERR | Self::ESME_RX_T_APPN
        )
    }
}

impl fmt::Debug for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CommandStatus({:#010x})", self.0),
        }
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#x})", self.0),
            None => write!(f, "{:#010x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_statuses_have_names() {
        assert_eq!(
            CommandStatus::ESME_RTHROTTLED.name(),
            Some("ESME_RTHROTTLED")
        );
        assert_eq!(CommandStatus(0x58), CommandStatus::ESME_RTHROTTLED);
        assert_eq!(CommandStatus::ESME_RINVBCASTCHANIND.0, 0x112);
    }

    #[test]
    fn unknown_statuses_survive_and_print_in_hex() {
        let s = CommandStatus(0x0400_0001);
        assert_eq!(s.name(), None);
        assert_eq!(s.to_string(), "0x04000001");
    }
}
