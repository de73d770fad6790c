//! Malformed requests for the socket API, from deterministic noise.

/// xorshift64*: deterministic noise without a dependency.
pub struct Noise(pub u64);

impl Noise {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

pub fn malformed(noise: &mut Noise) -> Vec<u8> {
    const TEMPLATES: &[&str] = &[
        r#"{"id": 1, "cmd": "info""#,
        r#"{"id": {}, "cmd": "info"}"#,
        r#"{"id": 1, "cmd": null}"#,
        r#"{"id": 1, "cmd": "read", "reader": 5}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": []}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"mrz": "P<"}}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"qr": "x|y"}}"#,
        r#"{"id": 1, "cmd": "read", "reader": "R", "access": {"id_number": "1", "birth": "900101"}}"#,
        r#"{"id": 1e999, "cmd": "info"}"#,
        r#"{"id": 1, "cmd": "read", "reader": "Sim", "access": {"can": "000000"}, "fields": "x"}"#,
        r#"{"id": 1, "cmd": "read", "access": {"can": "12345"}, "fields": ["all", 5]}"#,
        r#"{"id": "x", "cmd": "read", "reader": "Sim", "access": {"can": "000000"}, "face": "gif"}"#,
        r#"{"id": 1, "cmd": "read", "reader": "Sim", "access": {"can": "000000"}, "wait": "soon"}"#,
        r#""\ud800""#,
        "null",
        "1",
    ];
    match noise.below(5) {
        0 => TEMPLATES[noise.below(TEMPLATES.len() as u64)]
            .as_bytes()
            .to_vec(),
        1 => {
            // Deep nesting.
            let depth = 1 + noise.below(5000);
            let mut v = vec![b'['; depth];
            v.extend(std::iter::repeat_n(b']', noise.below(depth as u64 + 1)));
            v
        }
        2 => {
            // A template cut or with a byte flipped.
            let t = TEMPLATES[noise.below(TEMPLATES.len() as u64)].as_bytes();
            let mut v = t[..noise.below(t.len() as u64 + 1)].to_vec();
            if !v.is_empty() {
                let i = noise.below(v.len() as u64);
                v[i] = noise.next() as u8;
            }
            v
        }
        _ => (0..noise.below(300)).map(|_| noise.next() as u8).collect(),
    }
    .into_iter()
    .filter(|&b| b != b'\n')
    .collect()
}
