#!/usr/bin/env python3
"""Writes the checked-in seed corpus fuzz/seeds/<target>/ from the peer captures (../../shared/peers/captures).

frame_decode and pdu_roundtrip get one file per captured PDU, leaving out PDUs that differ from one already kept only in
their sequence number; receipt_parse gets the distinct receipt texts of the captured deliver_sm plus hand-written
variants; text_split gets texts prefixed with the two-octet concatenation reference its body reads first.
Run from anywhere: python3 fuzz/make_seeds.py
"""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "..", "..", "shared", "peers", "captures")
SEEDS = os.path.join(HERE, "seeds")

NAMES = {
    0x80000000: "generic_nack", 0x00000004: "submit_sm", 0x80000004: "submit_sm_resp",
    0x00000005: "deliver_sm", 0x80000005: "deliver_sm_resp", 0x00000006: "unbind", 0x80000006: "unbind_resp",
    0x00000009: "bind_transceiver", 0x80000009: "bind_transceiver_resp", 0x00000015: "enquire_link",
    0x80000015: "enquire_link_resp", 0x00000002: "bind_transmitter", 0x80000002: "bind_transmitter_resp",
    0x00000001: "bind_receiver", 0x80000001: "bind_receiver_resp",
}


def write(target, name, data):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def body_short_message(pdu):
    """The esm_class and short_message of a submit_sm / deliver_sm (SMPP 3.4 §4.4.1)."""
    at = 16

    def c_string(at):
        return pdu.index(b"\0", at) + 1

    at = c_string(at) + 2
    at = c_string(at) + 2
    at = c_string(at)
    esm_class = pdu[at]
    at = c_string(at + 3)
    at = c_string(at) + 4
    length = pdu[at]
    return esm_class, pdu[at + 1 : at + 1 + length]


def main():
    seen = set()
    receipts = []
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*.jsonl"))):
        origin = os.path.basename(path).removesuffix(".jsonl")
        for line in open(path):
            if not line.strip():
                continue
            pdu = bytes.fromhex(json.loads(line)["hex"])
            command_id = int.from_bytes(pdu[4:8], "big")
            if command_id == 5:
                esm_class, text = body_short_message(pdu)
                if esm_class & 0x3C == 0x04 and text not in receipts:
                    receipts.append(text)
            key = pdu[:12] + pdu[16:]
            if key in seen:
                continue
            seen.add(key)
            name = f"{origin}-{len(seen):03}-{NAMES.get(command_id, hex(command_id))}"
            write("frame_decode", name, pdu)
            write("pdu_roundtrip", name, pdu)

    receipts += [
        b"id:0123456789 sub:001 dlvrd:001 submit date:2611230718 done date:2611230719 stat:DELIVRD err:000 text:Your code is 123456",
        b"ID:ab12 Stat:undeliv ERR:034",
        b"id:1 submit date:261123071859 done date:2611230719 stat:EXPIRED",
        b"  id:7F3A   smsc:acme  sub:001 foo bar:baz\tstat:DELIVRD   mccmnc:26201 err:000\0\0",
        b"id:1 stat:DELIVRD text:Hi  there stat:REJECTD",
        b"id:1 submit date:2613230718 done date:26112307 stat:DELIVRD",
        b"id:1 stat:UNDELIV err:5 text:\xc3\xa9tait une fois un long message",
        b"id:1 stat:SKIPPED",
        b"id:1 stat:delivered\r\n",
        b"submit_date:2402290000 done_date:2402291200 id:x-1 stat:REJECTED err:ZZ",
        b"id:3e46724f-168a-4c56-b838-1dcaa3cefd9d submit date:2611230751 done date:2611230751 stat:DELIVRD err:000",
        b"sub:001 stat:DELIVRD",
    ]
    for n, text in enumerate(receipts):
        write("receipt_parse", f"receipt-{n:02}", text)

    texts = [
        "Your code is 123456",
        "Price: 5\u20ac [promo] {x} ~^|\\",
        "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \U0001F600 \u043a\u043e\u0434",
        "a" * 152 + "\u20ac" + "b" * 10,
        "a" * 66 + "\U0001F600" + "b" * 10,
        "\u00e9" * 141,
        "Flash code 999\r",
        "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\u00c6\u00e6\u00df\u00c9 !\"#\u00a4%&'()*+,-./0123456789:;<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0\u000c",
        ("Long GSM text with {braces} and the euro \u20ac sign, repeated. " * 6),
        ("\U0001F600\U0001F44D " * 40),
        "",
    ]
    for n, text in enumerate(texts):
        reference = (0x1200 + n).to_bytes(2, "big")
        write("text_split", f"text-{n:02}", reference + text.encode("utf-8"))


if __name__ == "__main__":
    main()
