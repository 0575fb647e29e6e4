//! A sans-IO SMPP 3.4 codec with SMPP 5.0's additions.
//!
//! The crate reads and writes bytes and keeps protocol state; it opens no sockets and reads no clock. Callers pass time in.
//!
//! - [`header`], [`command_id`], [`status`]: the 16-byte header; ids and statuses are open newtypes, so unknown values survive.
//! - [`types`]: bounded strings, addresses and the one-octet fields.
//! - [`time`]: absolute and relative SMPP times (`YYMMDDhhmmsstnnp`), parsed and formatted without a clock.
//! - [`tlv`]: optional parameters by tag, with typed accessors; unknown tags survive decode and re-encode byte for byte.
//! - [`pdu`]: every PDU body, its nom parser and its encoder.
//! - [`frame`]: cuts PDUs out of a byte stream by `command_length`, and tells fatal framing errors from per-PDU ones.
//! - [`receipt`]: the de-facto delivery-receipt text (`id:… stat:…`).
//! - [`encoding`]: GSM 03.38 (packed and unpacked), Latin-1, UCS-2, UDH and segmentation.
//! - [`session`]: bind states, the who-may-send-what matrix, sequence numbers, the window and timers.

mod codec;
pub mod command_id;
pub mod encoding;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod header;
pub mod pdu;
pub mod receipt;
pub mod session;
pub mod status;
pub mod time;
pub mod tlv;
pub mod types;

pub use codec::Fault;
pub use command_id::CommandId;
pub use frame::{FrameError, DEFAULT_MAX_PDU_LEN};
pub use header::{Header, SequenceNumber, HEADER_LEN};
pub use pdu::{Body, Pdu, PduError};
pub use status::CommandStatus;
pub use time::{SmppTime, TimeError};
