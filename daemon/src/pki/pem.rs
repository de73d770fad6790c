//! PEM armour (RFC 7468) for certificates, CRLs and keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Largest PEM block decoded.
const MAX_BLOCK: usize = 1024 * 1024;

/// Encodes `der` with the given label, 64 characters a line.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Whether the text looks like PEM.
pub fn is_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Every PEM block in `text`: (label, decoded bytes or why not).
pub fn decode_all(text: &[u8]) -> Vec<(String, Result<Vec<u8>, String>)> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + 11..).unwrap_or("");
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after.get(..label_end).unwrap_or("").to_string();
        let body_start = label_end + 5;
        let end_marker = format!("-----END {label}-----");
        let Some(body_len) = after.get(body_start..).and_then(|b| b.find(&end_marker)) else {
            out.push((label, Err("missing END line".to_string())));
            break;
        };
        let body = after.get(body_start..body_start + body_len).unwrap_or("");
        let decoded = if body.len() > MAX_BLOCK * 2 {
            Err("PEM block too large".to_string())
        } else {
            let cleaned: String = body
                .lines()
                // RFC 1421 headers (Proc-Type etc.) are not base64.
                .filter(|l| !l.contains(':'))
                .flat_map(|l| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect();
            STANDARD
                .decode(cleaned)
                .map_err(|e| format!("bad base64: {e}"))
        };
        out.push((label, decoded));
        rest = after
            .get(body_start + body_len + end_marker.len()..)
            .unwrap_or("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<u8> = (0..200u8).collect();
        let pem = encode("CERTIFICATE", &data);
        assert!(is_pem(pem.as_bytes()));
        let blocks = decode_all(format!("junk\n{pem}\nmore").as_bytes());
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].0, "CERTIFICATE");
        assert_eq!(blocks[0].1.as_deref().unwrap(), &data[..]);
        assert!(
            decode_all(b"-----BEGIN X-----\nAAAA")
                .first()
                .unwrap()
                .1
                .is_err()
        );
    }
}
