//! Metric names (constants, so a typo is a compile error) and the label values Sluice uses. Labels are low-cardinality:
//! account, carrier, class, reason, state; never phone numbers or message text.

/// Messages accepted from clients. Labels: account, class.
pub const ACCEPTED: &str = "sluice_messages_accepted_total";
/// Submits refused. Labels: account, reason.
pub const REJECTED: &str = "sluice_messages_rejected_total";
/// Messages acknowledged by a carrier. Labels: carrier, class.
pub const SENT: &str = "sluice_messages_sent_total";
/// Messages that reached a final state. Labels: account, class, state.
pub const FINISHED: &str = "sluice_messages_finished_total";
/// Carrier answers that put a message back or moved it to another carrier. Labels: carrier, reason.
pub const REQUEUED: &str = "sluice_messages_requeued_total";
/// Carrier receipts that matched no message. Labels: carrier.
pub const RECEIPTS_UNMATCHED: &str = "sluice_receipts_unmatched_total";
/// Receipts and MO dropped because an account's outbox was full. Labels: account.
pub const OUTBOX_DROPPED: &str = "sluice_outbox_dropped_total";
/// ESME_RTHROTTLED answers from carriers. Labels: carrier.
pub const CARRIER_THROTTLED: &str = "sluice_carrier_throttled_total";
/// Seconds from acceptance to the carrier's submit_sm_resp. Labels: class.
pub const SUBMIT_TO_CARRIER: &str = "sluice_submit_to_carrier_seconds";
/// Seconds from acceptance to the carrier's final receipt. Labels: class.
pub const SUBMIT_TO_RECEIPT: &str = "sluice_submit_to_receipt_seconds";
/// Client binds up. Labels: account.
pub const ESME_BINDS: &str = "sluice_esme_binds";
/// Carrier sessions bound. Labels: carrier.
pub const CARRIER_BINDS: &str = "sluice_carrier_binds";
