//! Sluice, an SMPP gateway and router.
