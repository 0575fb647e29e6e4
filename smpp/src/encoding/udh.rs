//! The User Data Header at the start of a `short_message` when `esm_class` has UDHI set (3GPP TS 23.040 §9.2.3.24;
//! SMPP 3.4 §5.2.12): a length octet, then information elements as IEI, length, data.
//!
//! Concatenation (§9.2.3.24.1 and .8) and application ports (§9.2.3.24.3 and .4) are typed; every other element is
//! kept byte for byte, so a UDH survives decode and re-encode.

use bytes::{BufMut, Bytes};
use thiserror::Error;

/// The `esm_class` bit that says the `short_message` starts with a UDH (SMPP 3.4 §5.2.12, GSM 03.40 TP-UDHI).
pub const UDHI: u8 = 0x40;

/// IEI of a concatenated message with an 8-bit reference (TS 23.040 §9.2.3.24.1).
pub const IEI_CONCAT_8: u8 = 0x00;
/// IEI of application port addressing with 8-bit ports (TS 23.040 §9.2.3.24.3).
pub const IEI_PORTS_8: u8 = 0x04;
/// IEI of application port addressing with 16-bit ports (TS 23.040 §9.2.3.24.4).
pub const IEI_PORTS_16: u8 = 0x05;
/// IEI of a concatenated message with a 16-bit reference (TS 23.040 §9.2.3.24.8).
pub const IEI_CONCAT_16: u8 = 0x08;

/// A User Data Header: its information elements, in order.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Udh {
    /// The elements as they appear on the wire.
    pub elements: Vec<InformationElement>,
}

/// One information element of a UDH.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InformationElement {
    /// Part `seqnum` of `total` of a concatenated message, 8-bit reference (IEI 0x00).
    Concat8 {
        /// Same in every part of one message.
        reference: u8,
        /// Number of parts, at least 1.
        total: u8,
        /// This part's number, 1..=total.
        seqnum: u8,
    },
    /// Part `seqnum` of `total` of a concatenated message, 16-bit reference (IEI 0x08).
    Concat16 {
        /// Same in every part of one message.
        reference: u16,
        /// Number of parts, at least 1.
        total: u8,
        /// This part's number, 1..=total.
        seqnum: u8,
    },
    /// Application port addressing with 8-bit ports (IEI 0x04).
    Ports8 {
        /// The receiving application's port.
        destination: u8,
        /// The sending application's port.
        originator: u8,
    },
    /// Application port addressing with 16-bit ports (IEI 0x05).
    Ports16 {
        /// The receiving application's port.
        destination: u16,
        /// The sending application's port.
        originator: u16,
    },
    /// Any other element, or a known one whose data the spec says to ignore (wrong length, a zero or out-of-range
    /// part number), kept as it came.
    Other {
        /// The information element identifier.
        iei: u8,
        /// The element's data, at most 255 octets to be encodable.
        data: Bytes,
    },
}

/// Concatenation info, from either reference width.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Concat {
    /// Same in every part of one message.
    pub reference: u16,
    /// Number of parts.
    pub total: u8,
    /// This part's number, from 1.
    pub seqnum: u8,
}

/// Application port addressing, from either port width.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Ports {
    /// The receiving application's port.
    pub destination: u16,
    /// The sending application's port.
    pub originator: u16,
}

/// Why a UDH could not be read or written; an incoming one maps to `ESME_RINVMSGLEN` or a per-PDU rejection.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Error)]
pub enum UdhError {
    /// UDHI was set but the `short_message` is empty, so there is no length octet.
    #[error("UDHI is set but the short_message is empty")]
    Empty,
    /// The length octet counts more octets than follow it.
    #[error("UDH length {udhl} runs past the {available} octets that follow it")]
    LengthPastEnd {
        /// The UDH length octet.
        udhl: u8,
        /// Octets after it.
        available: usize,
    },
    /// An element's length runs past the end of the UDH.
    #[error("information element {iei:#04x} at UDH offset {offset} runs past the header")]
    ElementOverrun {
        /// The element's identifier.
        iei: u8,
        /// Offset of its IEI octet from the start of the UDH (the length octet is offset 0).
        offset: usize,
    },
    /// On encode: the elements, or one element's data, need more than the 255 octets a length octet can count.
    #[error("UDH or element longer than 255 octets")]
    TooLong,
}

impl InformationElement {
    /// Reads an element from its identifier and data; data the spec says to ignore stays [`InformationElement::Other`].
    pub fn from_parts(iei: u8, data: &[u8]) -> InformationElement {
        // TS 23.040 §9.2.3.24.1: a zero total or a part number of zero or above the total makes the element ignorable.
        let valid_part = |total: u8, seqnum: u8| total >= 1 && (1..=total).contains(&seqnum);
        match (iei, data) {
            (IEI_CONCAT_8, &[reference, total, seqnum]) if valid_part(total, seqnum) => {
                InformationElement::Concat8 {
                    reference,
                    total,
                    seqnum,
                }
            }
            (IEI_CONCAT_16, &[hi, lo, total, seqnum]) if valid_part(total, seqnum) => {
                InformationElement::Concat16 {
                    reference: u16::from_be_bytes([hi, lo]),
                    total,
                    seqnum,
                }
            }
            (IEI_PORTS_8, &[destination, originator]) => InformationElement::Ports8 {
                destination,
                originator,
            },
            (IEI_PORTS_16, &[d_hi, d_lo, o_hi, o_lo]) => InformationElement::Ports16 {
                destination: u16::from_be_bytes([d_hi, d_lo]),
                originator: u16::from_be_bytes([o_hi, o_lo]),
            },
            _ => InformationElement::Other {
                iei,
                data: Bytes::copy_from_slice(data),
            },
        }
    }

    /// The element's identifier.
    pub fn iei(&self) -> u8 {
        match self {
            InformationElement::Concat8 { .. } => IEI_CONCAT_8,
            InformationElement::Concat16 { .. } => IEI_CONCAT_16,
            InformationElement::Ports8 { .. } => IEI_PORTS_8,
            InformationElement::Ports16 { .. } => IEI_PORTS_16,
            InformationElement::Other { iei, .. } => *iei,
        }
    }

    /// Octets the element takes on the wire, IEI and length included.
    pub fn encoded_len(&self) -> usize {
        2 + match self {
            InformationElement::Concat8 { .. } => 3,
            InformationElement::Concat16 { .. } => 4,
            InformationElement::Ports8 { .. } => 2,
            InformationElement::Ports16 { .. } => 4,
            InformationElement::Other { data, .. } => data.len(),
        }
    }

    /// Writes IEI, length and data; fails only for an [`InformationElement::Other`] with more than 255 octets of data.
    pub fn encode_into(&self, out: &mut impl BufMut) -> Result<(), UdhError> {
        let data_len = u8::try_from(self.encoded_len() - 2).map_err(|_| UdhError::TooLong)?;
        out.put_u8(self.iei());
        out.put_u8(data_len);
        match self {
            InformationElement::Concat8 {
                reference,
                total,
                seqnum,
            } => out.put_slice(&[*reference, *total, *seqnum]),
            InformationElement::Concat16 {
                reference,
                total,
                seqnum,
            } => {
                out.put_u16(*reference);
                out.put_slice(&[*total, *seqnum]);
            }
            InformationElement::Ports8 {
                destination,
                originator,
            } => out.put_slice(&[*destination, *originator]),
            InformationElement::Ports16 {
                destination,
                originator,
            } => {
                out.put_u16(*destination);
                out.put_u16(*originator);
            }
            InformationElement::Other { data, .. } => out.put_slice(data),
        }
        Ok(())
    }
}

impl Udh {
    /// Reads the UDH at the start of `short_message` and returns it with the payload after it.
    pub fn parse(short_message: &[u8]) -> Result<(Udh, &[u8]), UdhError> {
        let (&udhl, after) = short_message.split_first().ok_or(UdhError::Empty)?;
        let (mut header, payload) =
            after
                .split_at_checked(usize::from(udhl))
                .ok_or(UdhError::LengthPastEnd {
                    udhl,
                    available: after.len(),
                })?;
        let mut elements = Vec::new();
        while let Some((&iei, rest)) = header.split_first() {
            let offset = usize::from(udhl) - header.len() + 1;
            let overrun = UdhError::ElementOverrun { iei, offset };
            let (&len, rest) = rest.split_first().ok_or(overrun)?;
            let (data, rest) = rest.split_at_checked(usize::from(len)).ok_or(overrun)?;
            elements.push(InformationElement::from_parts(iei, data));
            header = rest;
        }
        Ok((Udh { elements }, payload))
    }

    /// Splits a `short_message` into its UDH (when `esm_class` has [`UDHI`]) and its payload.
    pub fn from_short_message(
        short_message: &[u8],
        esm_class: u8,
    ) -> Result<(Option<Udh>, &[u8]), UdhError> {
        if esm_class & UDHI == 0 {
            return Ok((None, short_message));
        }
        let (udh, payload) = Udh::parse(short_message)?;
        Ok((Some(udh), payload))
    }

    /// The first valid concatenation element, from either reference width.
    pub fn concat(&self) -> Option<Concat> {
        self.elements.iter().find_map(|element| match *element {
            InformationElement::Concat8 {
                reference,
                total,
                seqnum,
            } => Some(Concat {
                reference: u16::from(reference),
                total,
                seqnum,
            }),
            InformationElement::Concat16 {
                reference,
                total,
                seqnum,
            } => Some(Concat {
                reference,
                total,
                seqnum,
            }),
            _ => None,
        })
    }

    /// The first application port addressing element, from either port width.
    pub fn ports(&self) -> Option<Ports> {
        self.elements.iter().find_map(|element| match *element {
            InformationElement::Ports8 {
                destination,
                originator,
            } => Some(Ports {
                destination: u16::from(destination),
                originator: u16::from(originator),
            }),
            InformationElement::Ports16 {
                destination,
                originator,
            } => Some(Ports {
                destination,
                originator,
            }),
            _ => None,
        })
    }

    /// Octets the UDH takes on the wire, its length octet included.
    pub fn encoded_len(&self) -> usize {
        1 + self
            .elements
            .iter()
            .map(InformationElement::encoded_len)
            .sum::<usize>()
    }

    /// Writes the length octet and the elements; fails when they need more than 255 octets.
    pub fn encode_into(&self, out: &mut impl BufMut) -> Result<(), UdhError> {
        let udhl = u8::try_from(self.encoded_len() - 1).map_err(|_| UdhError::TooLong)?;
        out.put_u8(udhl);
        for element in &self.elements {
            element.encode_into(out)?;
        }
        Ok(())
    }

    /// The UDH as bytes, ready to precede the payload in a `short_message`.
    pub fn to_bytes(&self) -> Result<Bytes, UdhError> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out)?;
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::captures;
    use proptest::prelude::*;

    #[test]
    fn reads_an_8_bit_concatenation_element_and_the_payload() {
        let (udh, payload) =
            Udh::parse(&[0x05, 0x00, 0x03, 0xAB, 0x03, 0x02, b'h', b'i']).expect("a valid UDH");
        assert_eq!(
            udh.concat(),
            Some(Concat {
                reference: 0xAB,
                total: 3,
                seqnum: 2
            })
        );
        assert_eq!(payload, b"hi");
    }

    #[test]
    fn reads_a_16_bit_concatenation_element() {
        let (udh, payload) =
            Udh::parse(&[0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]).expect("a valid UDH");
        assert_eq!(
            udh.concat(),
            Some(Concat {
                reference: 0x1234,
                total: 2,
                seqnum: 1
            })
        );
        assert!(payload.is_empty());
    }

    #[test]
    fn reads_application_ports_of_either_width() {
        let (udh, _) = Udh::parse(&[0x04, 0x04, 0x02, 0x10, 0x20]).expect("8-bit ports");
        assert_eq!(
            udh.ports(),
            Some(Ports {
                destination: 0x10,
                originator: 0x20
            })
        );
        let (udh, _) =
            Udh::parse(&[0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0]).expect("16-bit ports");
        assert_eq!(
            udh.ports(),
            Some(Ports {
                destination: 2948,
                originator: 9200
            })
        );
    }

    #[test]
    fn keeps_a_concatenation_element_with_part_zero_as_other() {
        let bytes = [0x05, 0x00, 0x03, 0x01, 0x02, 0x00];
        let (udh, _) = Udh::parse(&bytes).expect("well-formed");
        assert_eq!(udh.concat(), None);
        assert_eq!(udh.to_bytes().as_deref(), Ok(&bytes[..]));
    }

    #[test]
    fn rejects_a_length_past_the_end() {
        assert_eq!(
            Udh::parse(&[0x05, 0x00, 0x03]),
            Err(UdhError::LengthPastEnd {
                udhl: 5,
                available: 2
            })
        );
        assert_eq!(Udh::parse(&[]), Err(UdhError::Empty));
    }

    #[test]
    fn rejects_an_element_running_past_the_header() {
        assert_eq!(
            Udh::parse(&[0x03, 0x00, 0x03, 0x01, b'x', b'y']),
            Err(UdhError::ElementOverrun {
                iei: 0x00,
                offset: 1
            })
        );
        assert_eq!(
            Udh::parse(&[0x01, 0x24]),
            Err(UdhError::ElementOverrun {
                iei: 0x24,
                offset: 1
            })
        );
    }

    #[test]
    fn without_udhi_the_whole_short_message_is_payload() {
        let (udh, payload) = Udh::from_short_message(&[0x05, 0x00], 0x03).expect("no UDH to read");
        assert_eq!((udh, payload), (None, &[0x05, 0x00][..]));
    }

    #[test]
    fn refuses_to_encode_more_than_255_octets_of_elements() {
        let data = Bytes::from(vec![0; 200]);
        let element = InformationElement::Other { iei: 0x70, data };
        let udh = Udh {
            elements: vec![element.clone(), element],
        };
        assert_eq!(udh.to_bytes(), Err(UdhError::TooLong));
    }

    #[test]
    fn reads_the_concatenation_udhs_of_every_capture() {
        // (file, expected (reference, total) of each long message, in order of appearance)
        let cases: [(&str, &[(u16, u8)]); 4] = [
            ("kannel-to-node-smpp.jsonl", &[(3, 3), (4, 3)]),
            ("jasmin-to-node-smpp.jsonl", &[(1, 2), (0xFD, 6)]),
            ("smpplib-to-jasmin.jsonl", &[(0xFD, 6)]),
            ("smpplib-to-node-smpp.jsonl", &[(0xDB, 6)]),
        ];
        for (file, messages) in cases {
            let parts: Vec<Concat> = captures::submits(file)
                .iter()
                .filter(|m| m.esm_class & UDHI != 0)
                .map(|m| {
                    let (udh, payload) = Udh::parse(&m.short_message).expect("a valid UDH");
                    assert!(!payload.is_empty(), "{file}: a part with text");
                    assert_eq!(
                        udh.to_bytes().as_deref(),
                        Ok(&m.short_message[..6]),
                        "{file}"
                    );
                    udh.concat().expect("a concatenation element")
                })
                .collect();
            let mut expected = Vec::new();
            for &(reference, total) in messages {
                expected.extend((1..=total).map(|seqnum| Concat {
                    reference,
                    total,
                    seqnum,
                }));
            }
            assert_eq!(parts, expected, "{file}");
        }
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_octets_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok((udh, payload)) = Udh::parse(&octets) {
                // Whatever parses re-encodes to the octets it came from.
                let header = udh.to_bytes().expect("parsed, so encodable");
                prop_assert_eq!(header.len() + payload.len(), octets.len());
                prop_assert_eq!(&header[..], &octets[..header.len()]);
            }
        }
    }
}
