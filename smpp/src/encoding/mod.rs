//! Text encodings: GSM 03.38, Latin-1, UCS-2, UDH and segmentation.
