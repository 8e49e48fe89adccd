//! COCO compressed RLE from someone else's annotation file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinseg::export::CompressedRle;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let height = u32::from(u16::from_le_bytes([data[0], data[1]]));
    let width = u32::from(u16::from_le_bytes([data[2], data[3]]));
    let counts = String::from_utf8_lossy(&data[4..]).into_owned();
    let rle = CompressedRle {
        size: [height, width],
        counts,
    };
    if let Ok(mask) = rle.to_mask() {
        assert_eq!((mask.width(), mask.height()), (width, height));
    }
});
