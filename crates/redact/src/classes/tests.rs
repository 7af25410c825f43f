#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use proptest::prelude::*;

use super::*;

/// Every path this CPU can take gives the byte loop's classes.
fn check(block: &[u8; 64]) {
    let want = by_bytes(block);
    assert_eq!(classify(block), want, "{block:?}");
    #[cfg(target_arch = "x86_64")]
    if let Some(got) = avx2::classify_block(block) {
        assert_eq!(got, want, "{block:?}");
    }
}

#[test]
fn every_byte_value_in_every_position() {
    for b in 0..=255u8 {
        for at in [0, 1, 15, 16, 31, 32, 47, 63] {
            let mut block = [b'x'; 64];
            block[at] = b;
            check(&block);
            let t = &block[..at.max(1)];
            assert_eq!(mixed_case(t), mixed_case_by_bytes(t), "{b} at {at}");
        }
    }
}

#[test]
fn classes_of_a_known_block() {
    let block = padded(b"a0Z-.\\ ()9zA_=@^~\"',:;<>?[]{}|`");
    check(&block);
    let c = by_bytes(&block);
    assert_eq!(c.digit, 1 << 1 | 1 << 9);
    assert_eq!(c.upper, 1 << 2 | 1 << 11);
    assert_eq!(c.lower, 1 | 1 << 10);
    assert_eq!(c.backslash, 1 << 5);
    assert_eq!(c.joiner, 1 << 3 | 1 << 4);
    assert_eq!(c.sep, 0b11 << 3 | 0b111 << 6);
    // Everything up to `~` but the backslash and the space; nothing after it.
    assert_eq!(c.token, ((1 << 17) - 1) & !(1 << 5 | 1 << 6));
    assert_eq!(c.alnum(), c.digit | c.upper | c.lower);
}

#[test]
fn whole_texts_are_padded_blocks() {
    let text: Vec<u8> = (0..200u32).map(|i| b"ab1 -Z\\x."[i as usize % 9]).collect();
    let blocks = classify_text(&text);
    assert_eq!(blocks.len(), 4);
    for (k, c) in blocks.iter().enumerate() {
        let chunk = text.get(64 * k..).unwrap_or_default();
        assert_eq!(
            *c,
            by_bytes(&padded(&chunk[..chunk.len().min(64)])),
            "block {k}"
        );
    }
    assert!(classify_text(b"").is_empty());
}

proptest! {
    #[test]
    fn vector_paths_and_byte_loop_agree(v in proptest::collection::vec(any::<u8>(), 64)) {
        let block: [u8; 64] = v.clone().try_into().unwrap();
        check(&block);
        for len in [3, 16, 20, 37, 64] {
            prop_assert_eq!(mixed_case(&v[..len]), mixed_case_by_bytes(&v[..len]));
            prop_assert_eq!(
                has_symbol(&v[..len]),
                crate::text::has_symbol_by_bytes(&v[..len])
            );
        }
    }
}

#[test]
fn stack_and_heap_classes_agree() {
    let text: Vec<u8> = (0..1000u32)
        .map(|i| b"q7 Z-\\x.\"_"[i as usize % 10])
        .collect();
    for len in [0, 1, 63, 64, 65, 255, 256, 257, 1000] {
        let t = &text[..len];
        let want: Vec<Classes> = t.chunks(64).map(|c| by_bytes(&padded(c))).collect();
        with_classes(t, |got| assert_eq!(got, &want[..], "{len}"));
        assert_eq!(classify_text(t), want, "{len}");
    }
}
