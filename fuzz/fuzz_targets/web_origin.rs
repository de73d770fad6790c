#![no_main]

use cancuoc::config::Config;
use cancuoc::config::web::{check_origin, rule_for_origin};
use libfuzzer_sys::fuzz_target;

// A handshake's Origin header and a token, as a browser (or anyone) sends them, against
// fixed [[web_client]] rules; and the same bytes as a configured origin. An origin is
// accepted only when a rule names it byte for byte.
fuzz_target!(|data: &[u8]| {
    let config = Config::parse(
        "[[web_client]]\nname = \"a\"\norigins = [\"http://127.0.0.1:8470\", \"https://kiosk.localhost\"]\nfields = [\"full_name\"]\ntoken = \"0123456789abcdef\"\n",
    )
    .expect("the fixed rules load");
    let rules = &config.web_clients;
    if let Some(rule) = rule_for_origin(rules, Some(data)) {
        assert!(rule.origins.iter().any(|o| o.as_bytes() == data));
    }
    if let Some(rule) = rules.first() {
        assert_eq!(rule.token_matches(data), data == &b"0123456789abcdef"[..]);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if check_origin(text).is_ok() {
            assert!(text.starts_with("http://") || text.starts_with("https://"));
            assert!(!text.contains('/') || text.matches('/').count() == 2);
        }
        let toml = format!(
            "[[web_client]]\nname = \"f\"\norigins = [{}]\nfields = []\n",
            toml_string(text)
        );
        if let Ok(c) = Config::parse(&toml) {
            assert!(
                rule_for_origin(&c.web_clients, Some(text.as_bytes())).is_some() || text == "null"
            );
        }
    }
});

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
