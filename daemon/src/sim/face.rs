//! A synthetic portrait for DG2: a drawn, cartoon-like head and shoulders, rendered
//! from a seed, so simulated cards carry a face image of realistic size without any
//! photo of a real person.
//!
//! The drawing is deterministic: the same seed, size and quality give the same JPEG
//! bytes (and so the same DG2 hash in the simulated EF.SOD). A little seeded grain is
//! added so the JPEG is about as large as a real chip's face image (15–20 KB at
//! 360×480), not a few kilobytes of flat colour.

use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;

/// A tiny deterministic generator (xorshift64*): enough for colours and grain.
struct Grain(u64);

impl Grain {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Whether (x, y) lies inside the ellipse centred at (cx, cy) with radii (rx, ry).
fn in_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    let dx = (x - cx) / rx;
    let dy = (y - cy) / ry;
    dx * dx + dy * dy <= 1.0
}

/// Renders the portrait as a baseline JPEG.
pub fn synthetic_face(seed: u64, width: u32, height: u32, quality: u8) -> Result<Vec<u8>, String> {
    if !(64..=2000).contains(&width) || !(64..=2000).contains(&height) {
        return Err("face size must be 64 to 2000 pixels a side".into());
    }
    let mut rng = Grain(seed ^ 0x9E37_79B9_7F4A_7C15 | 1);
    let skin_tones: [[u8; 3]; 4] = [
        [224, 188, 160],
        [210, 170, 135],
        [196, 150, 118],
        [232, 200, 175],
    ];
    let skin = skin_tones[rng.below(4) as usize];
    let hair = [rng.below(40) as u8 + 15, rng.below(30) as u8 + 12, 10];
    let shirt = [
        rng.below(80) as u8 + 20,
        rng.below(80) as u8 + 40,
        rng.below(120) as u8 + 80,
    ];
    let (w, h) = (width as f32, height as f32);
    let (cx, cy) = (w * 0.5, h * 0.42);
    let (rx, ry) = (w * 0.24, h * 0.25);
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for py in 0..height {
        for px in 0..width {
            let (x, y) = (px as f32, py as f32);
            // A pale studio background, lighter at the top.
            let shade = 235.0 - 25.0 * y / h;
            let mut c = [shade as u8, shade as u8, (shade + 8.0).min(255.0) as u8];
            let shoulders = y > h * 0.78 && (x - cx).abs() < w * 0.45 - (h - y) * 0.4;
            let neck = y > cy + ry * 0.7 && (x - cx).abs() < w * 0.09;
            if shoulders {
                c = shirt;
            } else if neck {
                c = skin.map(|v| v.saturating_sub(18));
            }
            if in_ellipse(x, y, cx, cy - ry * 0.15, rx * 1.08, ry * 0.95) && y < cy - ry * 0.35 {
                c = hair;
            }
            if in_ellipse(x, y, cx, cy, rx, ry) && y >= cy - ry * 0.55 {
                c = skin;
                // Eyes, brows, nose and mouth.
                for side in [-1.0f32, 1.0] {
                    let ex = cx + side * rx * 0.4;
                    let ey = cy - ry * 0.12;
                    if in_ellipse(x, y, ex, ey, rx * 0.16, ry * 0.06) {
                        c = [245, 245, 240];
                    }
                    if in_ellipse(x, y, ex, ey, rx * 0.06, ry * 0.055) {
                        c = [50, 35, 25];
                    }
                    if in_ellipse(x, y, ex, ey - ry * 0.16, rx * 0.2, ry * 0.03) {
                        c = hair;
                    }
                }
                if (x - cx).abs() < rx * 0.04 && y > cy && y < cy + ry * 0.3 {
                    c = skin.map(|v| v.saturating_sub(30));
                }
                if in_ellipse(x, y, cx, cy + ry * 0.5, rx * 0.3, ry * 0.07) {
                    c = [170, 80, 80];
                }
            }
            // Grain, as a camera sensor leaves it.
            let n = rng.below(17) as i16 - 8;
            pixels.extend(c.map(|v| (i16::from(v) + n).clamp(0, 255) as u8));
        }
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, quality.clamp(10, 100))
        .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| format!("JPEG encoding: {e}"))?;
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_face_is_deterministic_and_decodes() {
        let a = synthetic_face(7, 120, 160, 80).unwrap();
        let b = synthetic_face(7, 120, 160, 80).unwrap();
        let c = synthetic_face(8, 120, 160, 80).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let img = image::load_from_memory(&a).unwrap();
        assert_eq!((img.width(), img.height()), (120, 160));
        assert!(synthetic_face(1, 10, 10, 80).is_err());
    }
}
