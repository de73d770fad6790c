#![no_main]

use cancuoc::lds::dg2::{Dg2, ImageLimits, OutputFormat, image_dimensions};
use libfuzzer_sys::fuzz_target;

// Small limits keep each execution fast while still running the decoders on whatever
// passes the size checks: the bounded path is what is being fuzzed.
const LIMITS: ImageLimits = ImageLimits {
    max_width: 128,
    max_height: 128,
    max_pixels: 8192,
};

fuzz_target!(|data: &[u8]| {
    let _ = image_dimensions(data, &LIMITS);
    if let Ok(dg2) = Dg2::parse(data) {
        for face in &dg2.faces {
            if let Ok((width, height)) = face.check(&LIMITS) {
                assert!(width <= LIMITS.max_width && height <= LIMITS.max_height);
                if let Ok(image) = face.decode(&LIMITS, OutputFormat::Png) {
                    assert_eq!((image.width, image.height), (width, height));
                }
            }
        }
    }
});
