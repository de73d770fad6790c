//! Issuing-state codes: the three-letter code of the MRZ (ICAO Doc 9303-3 §5: ISO 3166-1
//! alpha-3 plus ICAO's own codes) against the two-letter `C` attribute of a CSCA's
//! subject (ISO 3166-1 alpha-2). Passive authentication uses it to bind the trust
//! anchor a chain ends at to the state that the document claims issued it: a genuine
//! CSCA of one state must not vouch for a document of another.
//!
//! The one table of the crate: [`ALPHA3_TO_ALPHA2`] (all 249 ISO 3166-1 entries), then
//! the ICAO specials in [`mrz_to_alpha2`]:
//! - `D` (Germany's one-letter code) → `DE`;
//! - `GBD`, `GBN`, `GBO`, `GBP`, `GBS` (British nationality classes) → `GB`;
//! - `RKS` (Kosovo) → `XK`, and also `KS`, the code Kosovo's CSCA actually carries in
//!   its subject (see the German master list);
//! - organisations — `EUE` (European Union), `UNO`/`UNA`/`UNK` (United Nations),
//!   `XOM` (Sovereign Military Order of Malta), `XPO` (Interpol), `XBA`, `XIM`, `XCC`,
//!   `XCE`, `XCO`, `XDC`, `XEC`, `XES`, `XMP` — have no single alpha-2 code: no CSCA
//!   matches them by its `C` attribute (even `C=UN` or `C=EU`, which are not ISO
//!   3166-1 codes); only a CSCA the operator loaded with an explicit vouch
//!   ([`super::TrustStore::load_path_vouching`]) verifies their documents;
//! - `XXA`, `XXB`, `XXC`, `XXX` (stateless persons, refugees, unspecified) are
//!   nationalities, not issuing states: nothing matches them but a vouch;
//! - anything else (including the specimen state `UTO`) matches nothing but a vouch.

/// ISO 3166-1: alpha-3 → alpha-2, in alpha-3 order (249 entries).
pub const ALPHA3_TO_ALPHA2: &[(&str, &str)] = &[
    ("ABW", "AW"),
    ("AFG", "AF"),
    ("AGO", "AO"),
    ("AIA", "AI"),
    ("ALA", "AX"),
    ("ALB", "AL"),
    ("AND", "AD"),
    ("ARE", "AE"),
    ("ARG", "AR"),
    ("ARM", "AM"),
    ("ASM", "AS"),
    ("ATA", "AQ"),
    ("ATF", "TF"),
    ("ATG", "AG"),
    ("AUS", "AU"),
    ("AUT", "AT"),
    ("AZE", "AZ"),
    ("BDI", "BI"),
    ("BEL", "BE"),
    ("BEN", "BJ"),
    ("BES", "BQ"),
    ("BFA", "BF"),
    ("BGD", "BD"),
    ("BGR", "BG"),
    ("BHR", "BH"),
    ("BHS", "BS"),
    ("BIH", "BA"),
    ("BLM", "BL"),
    ("BLR", "BY"),
    ("BLZ", "BZ"),
    ("BMU", "BM"),
    ("BOL", "BO"),
    ("BRA", "BR"),
    ("BRB", "BB"),
    ("BRN", "BN"),
    ("BTN", "BT"),
    ("BVT", "BV"),
    ("BWA", "BW"),
    ("CAF", "CF"),
    ("CAN", "CA"),
    ("CCK", "CC"),
    ("CHE", "CH"),
    ("CHL", "CL"),
    ("CHN", "CN"),
    ("CIV", "CI"),
    ("CMR", "CM"),
    ("COD", "CD"),
    ("COG", "CG"),
    ("COK", "CK"),
    ("COL", "CO"),
    ("COM", "KM"),
    ("CPV", "CV"),
    ("CRI", "CR"),
    ("CUB", "CU"),
    ("CUW", "CW"),
    ("CXR", "CX"),
    ("CYM", "KY"),
    ("CYP", "CY"),
    ("CZE", "CZ"),
    ("DEU", "DE"),
    ("DJI", "DJ"),
    ("DMA", "DM"),
    ("DNK", "DK"),
    ("DOM", "DO"),
    ("DZA", "DZ"),
    ("ECU", "EC"),
    ("EGY", "EG"),
    ("ERI", "ER"),
    ("ESH", "EH"),
    ("ESP", "ES"),
    ("EST", "EE"),
    ("ETH", "ET"),
    ("FIN", "FI"),
    ("FJI", "FJ"),
    ("FLK", "FK"),
    ("FRA", "FR"),
    ("FRO", "FO"),
    ("FSM", "FM"),
    ("GAB", "GA"),
    ("GBR", "GB"),
    ("GEO", "GE"),
    ("GGY", "GG"),
    ("GHA", "GH"),
    ("GIB", "GI"),
    ("GIN", "GN"),
    ("GLP", "GP"),
    ("GMB", "GM"),
    ("GNB", "GW"),
    ("GNQ", "GQ"),
    ("GRC", "GR"),
    ("GRD", "GD"),
    ("GRL", "GL"),
    ("GTM", "GT"),
    ("GUF", "GF"),
    ("GUM", "GU"),
    ("GUY", "GY"),
    ("HKG", "HK"),
    ("HMD", "HM"),
    ("HND", "HN"),
    ("HRV", "HR"),
    ("HTI", "HT"),
    ("HUN", "HU"),
    ("IDN", "ID"),
    ("IMN", "IM"),
    ("IND", "IN"),
    ("IOT", "IO"),
    ("IRL", "IE"),
    ("IRN", "IR"),
    ("IRQ", "IQ"),
    ("ISL", "IS"),
    ("ISR", "IL"),
    ("ITA", "IT"),
    ("JAM", "JM"),
    ("JEY", "JE"),
    ("JOR", "JO"),
    ("JPN", "JP"),
    ("KAZ", "KZ"),
    ("KEN", "KE"),
    ("KGZ", "KG"),
    ("KHM", "KH"),
    ("KIR", "KI"),
    ("KNA", "KN"),
    ("KOR", "KR"),
    ("KWT", "KW"),
    ("LAO", "LA"),
    ("LBN", "LB"),
    ("LBR", "LR"),
    ("LBY", "LY"),
    ("LCA", "LC"),
    ("LIE", "LI"),
    ("LKA", "LK"),
    ("LSO", "LS"),
    ("LTU", "LT"),
    ("LUX", "LU"),
    ("LVA", "LV"),
    ("MAC", "MO"),
    ("MAF", "MF"),
    ("MAR", "MA"),
    ("MCO", "MC"),
    ("MDA", "MD"),
    ("MDG", "MG"),
    ("MDV", "MV"),
    ("MEX", "MX"),
    ("MHL", "MH"),
    ("MKD", "MK"),
    ("MLI", "ML"),
    ("MLT", "MT"),
    ("MMR", "MM"),
    ("MNE", "ME"),
    ("MNG", "MN"),
    ("MNP", "MP"),
    ("MOZ", "MZ"),
    ("MRT", "MR"),
    ("MSR", "MS"),
    ("MTQ", "MQ"),
    ("MUS", "MU"),
    ("MWI", "MW"),
    ("MYS", "MY"),
    ("MYT", "YT"),
    ("NAM", "NA"),
    ("NCL", "NC"),
    ("NER", "NE"),
    ("NFK", "NF"),
    ("NGA", "NG"),
    ("NIC", "NI"),
    ("NIU", "NU"),
    ("NLD", "NL"),
    ("NOR", "NO"),
    ("NPL", "NP"),
    ("NRU", "NR"),
    ("NZL", "NZ"),
    ("OMN", "OM"),
    ("PAK", "PK"),
    ("PAN", "PA"),
    ("PCN", "PN"),
    ("PER", "PE"),
    ("PHL", "PH"),
    ("PLW", "PW"),
    ("PNG", "PG"),
    ("POL", "PL"),
    ("PRI", "PR"),
    ("PRK", "KP"),
    ("PRT", "PT"),
    ("PRY", "PY"),
    ("PSE", "PS"),
    ("PYF", "PF"),
    ("QAT", "QA"),
    ("REU", "RE"),
    ("ROU", "RO"),
    ("RUS", "RU"),
    ("RWA", "RW"),
    ("SAU", "SA"),
    ("SDN", "SD"),
    ("SEN", "SN"),
    ("SGP", "SG"),
    ("SGS", "GS"),
    ("SHN", "SH"),
    ("SJM", "SJ"),
    ("SLB", "SB"),
    ("SLE", "SL"),
    ("SLV", "SV"),
    ("SMR", "SM"),
    ("SOM", "SO"),
    ("SPM", "PM"),
    ("SRB", "RS"),
    ("SSD", "SS"),
    ("STP", "ST"),
    ("SUR", "SR"),
    ("SVK", "SK"),
    ("SVN", "SI"),
    ("SWE", "SE"),
    ("SWZ", "SZ"),
    ("SXM", "SX"),
    ("SYC", "SC"),
    ("SYR", "SY"),
    ("TCA", "TC"),
    ("TCD", "TD"),
    ("TGO", "TG"),
    ("THA", "TH"),
    ("TJK", "TJ"),
    ("TKL", "TK"),
    ("TKM", "TM"),
    ("TLS", "TL"),
    ("TON", "TO"),
    ("TTO", "TT"),
    ("TUN", "TN"),
    ("TUR", "TR"),
    ("TUV", "TV"),
    ("TWN", "TW"),
    ("TZA", "TZ"),
    ("UGA", "UG"),
    ("UKR", "UA"),
    ("UMI", "UM"),
    ("URY", "UY"),
    ("USA", "US"),
    ("UZB", "UZ"),
    ("VAT", "VA"),
    ("VCT", "VC"),
    ("VEN", "VE"),
    ("VGB", "VG"),
    ("VIR", "VI"),
    ("VNM", "VN"),
    ("VUT", "VU"),
    ("WLF", "WF"),
    ("WSM", "WS"),
    ("YEM", "YE"),
    ("ZAF", "ZA"),
    ("ZMB", "ZM"),
    ("ZWE", "ZW"),
];

/// ICAO codes that differ from ISO 3166-1 alpha-3 but denote one state.
const ICAO_STATES: &[(&str, &[&str])] = &[
    ("D", &["DE"]),
    ("GBD", &["GB"]),
    ("GBN", &["GB"]),
    ("GBO", &["GB"]),
    ("GBP", &["GB"]),
    ("GBS", &["GB"]),
    ("RKS", &["XK", "KS"]),
];

/// Normalises an issuing-state code as read from the MRZ: fillers (`<`) and spaces
/// stripped, upper case. `None` unless one to three ASCII letters remain.
pub fn normalize(code: &str) -> Option<String> {
    let c: String = code
        .chars()
        .filter(|&ch| ch != '<' && !ch.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let ok = (1..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_uppercase());
    ok.then_some(c)
}

/// The alpha-2 codes a CSCA of this issuing state carries as its subject's `C`
/// (usually one; empty for organisations, nationality-only codes and unknown codes).
/// `code` is normalised first (see [`normalize`]).
pub fn mrz_to_alpha2(code: &str) -> &'static [&'static str] {
    let Some(code) = normalize(code) else {
        return &[];
    };
    if let Some((_, a2)) = ICAO_STATES.iter().find(|(k, _)| *k == code) {
        return a2;
    }
    match ALPHA3_TO_ALPHA2.binary_search_by(|(a3, _)| (*a3).cmp(code.as_str())) {
        Ok(i) => ALPHA3_TO_ALPHA2
            .get(i)
            .map(|(_, a2)| std::slice::from_ref(a2))
            .unwrap_or(&[]),
        Err(_) => &[],
    }
}

/// Whether a certificate whose subject's `C` is `subject_country` belongs to the issuing
/// state `mrz_code` (no vouching considered).
pub fn country_matches(mrz_code: &str, subject_country: &str) -> bool {
    let c = subject_country.trim().to_ascii_uppercase();
    mrz_to_alpha2(mrz_code).contains(&c.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_table_is_complete_sorted_and_unique() {
        assert_eq!(ALPHA3_TO_ALPHA2.len(), 249);
        // Sorted strictly: no duplicate alpha-3 key, and binary search works.
        for pair in ALPHA3_TO_ALPHA2.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?} before {:?}", pair[0], pair[1]);
        }
        let mut a2: Vec<&str> = ALPHA3_TO_ALPHA2.iter().map(|(_, v)| *v).collect();
        a2.sort_unstable();
        a2.dedup();
        assert_eq!(a2.len(), 249, "an alpha-2 code is listed twice");
        for (a3, a2) in ALPHA3_TO_ALPHA2 {
            assert!(a3.len() == 3 && a3.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(a2.len() == 2 && a2.bytes().all(|b| b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn country_spot_checks() {
        for (mrz, a2) in [
            ("VNM", "VN"),
            ("DEU", "DE"),
            ("D", "DE"),
            ("D<<", "DE"),
            ("GBR", "GB"),
            ("GBD", "GB"),
            ("AUT", "AT"),
            ("CHE", "CH"),
            ("PRK", "KP"),
            ("KOR", "KR"),
            ("COM", "KM"),
            ("CYM", "KY"),
            ("SRB", "RS"),
            ("MYT", "YT"),
            ("ATA", "AQ"),
            ("ALA", "AX"),
            ("TWN", "TW"),
            ("MAC", "MO"),
            ("vnm", "VN"),
        ] {
            assert!(country_matches(mrz, a2), "{mrz} → {a2}");
        }
        assert!(country_matches("RKS", "XK") && country_matches("RKS", "KS"));
        assert!(!country_matches("VNM", "DE"));
        assert!(!country_matches("AUT", "AU"));
        // Organisations, nationality-only codes, specimens and junk match nothing.
        for code in [
            "EUE", "UNO", "UNA", "UNK", "XOM", "XPO", "XBA", "XIM", "XCC", "XCE", "XEC", "XDC",
            "XXA", "XXB", "XXC", "XXX", "UTO", "", "<<<", "V1M", "ABCD",
        ] {
            assert!(mrz_to_alpha2(code).is_empty(), "{code}");
        }
        assert!(!country_matches("UNO", "UN"));
        assert!(!country_matches("EUE", "EU"));
    }
}
