//! Any single-byte change anywhere in a segment fails verify (or leaves a
//! line that no longer parses, which verify also reports): a property test
//! over random positions and masks through `verify`, and an exhaustive walk
//! of every single-bit flip of a smaller segment.
use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::archive::check::Walker;

/// One archive's only segment: 12 records, 4 seals, written once.
fn segment() -> &'static [u8] {
    static SEGMENT: OnceLock<Vec<u8>> = OnceLock::new();
    SEGMENT.get_or_init(|| {
        let fx = Fx::written(12);
        std::fs::read(fx.seg(1)).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]
    #[test]
    fn any_single_byte_flip_is_detected(
        pos in any::<prop::sample::Index>(),
        // 0x20 flips ASCII case: hex must stay lowercase to be accepted.
        mask in prop_oneof![Just(0x20u8), Just(0x01u8), 1u8..=255],
    ) {
        let fx = Fx::new();
        std::fs::create_dir_all(fx.dir()).unwrap();
        let mut bytes = segment().to_vec();
        let at = pos.index(bytes.len());
        bytes[at] ^= mask;
        std::fs::write(fx.seg(1), &bytes).unwrap();
        let result = fx.verify();
        prop_assert!(result.is_err(), "flip of byte {} by {:#04x} passed", at, mask);
    }
}

#[test]
fn every_single_bit_flip_is_detected() {
    let fx = Fx::written(2);
    let good = std::fs::read(fx.seg(1)).unwrap();
    let key = pubkey();
    let walk = |bytes: &[u8]| Walker::new(&key).segment(1, &fx.seg(1), bytes, true);
    assert!(walk(&good).is_ok());
    for at in 0..good.len() {
        for bit in 0..8 {
            let mut bytes = good.clone();
            bytes[at] ^= 1 << bit;
            assert!(
                walk(&bytes).is_err(),
                "flipping bit {bit} of byte {at} ({:?}) passed",
                char::from(good[at])
            );
        }
    }
}
