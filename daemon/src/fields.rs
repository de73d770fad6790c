//! What a client may have: the result fields, which data groups they need, and the
//! filter that keeps everything else out of an answer.
//!
//! A field is the unit of the policy. Each lives in known data groups; a read is asked
//! only for the data groups some allowed, requested field needs, so a field a client may
//! not have is not even read from the card (DG1 excepted: it carries the MRZ the read is
//! checked against). The filter is fail-closed: a result key not named here is dropped.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

/// A field of the result a client can be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `holder.full_name`, `surname`, `given_names`; `vn.full_name`.
    FullName,
    /// `holder.birth_date`, `vn.birth_date`.
    BirthDate,
    /// `holder.sex`, `vn.sex`.
    Sex,
    /// `holder.nationality`, `vn.nationality`.
    Nationality,
    /// `document.kind`, `issuing_state`, `number`, `expiry_date`; `vn.expiry_date`.
    Document,
    /// `document.mrz`.
    Mrz,
    /// `vn.id_number`, `vn.old_id_number`, `vn.field_16`.
    IdNumber,
    /// `vn.ethnicity`.
    Ethnicity,
    /// `vn.religion`.
    Religion,
    /// `vn.place_of_origin`.
    PlaceOfOrigin,
    /// `vn.place_of_residence`.
    PlaceOfResidence,
    /// `vn.identifying_marks`.
    IdentifyingMarks,
    /// `vn.issue_date`.
    IssueDate,
    /// `vn.father_name`, `mother_name`, `spouse_name`.
    Family,
    /// `face` (DG2).
    Face,
    /// `raw`: the files as read, limited to the data groups the set's other fields come
    /// from plus those granted by `raw_groups` (EF.SOD, EF.COM and the chip's key files
    /// always); also `vn.extra` (DG13 fields of unknown meaning) when DG13 is among them.
    Raw,
}

impl Field {
    /// Every field, in the order the API lists them.
    pub const ALL: [Field; 16] = [
        Field::FullName,
        Field::BirthDate,
        Field::Sex,
        Field::Nationality,
        Field::Document,
        Field::Mrz,
        Field::IdNumber,
        Field::Ethnicity,
        Field::Religion,
        Field::PlaceOfOrigin,
        Field::PlaceOfResidence,
        Field::IdentifyingMarks,
        Field::IssueDate,
        Field::Family,
        Field::Face,
        Field::Raw,
    ];

    /// The name in requests, answers and the config.
    pub fn name(self) -> &'static str {
        match self {
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::Nationality => "nationality",
            Field::Document => "document",
            Field::Mrz => "mrz",
            Field::IdNumber => "id_number",
            Field::Ethnicity => "ethnicity",
            Field::Religion => "religion",
            Field::PlaceOfOrigin => "place_of_origin",
            Field::PlaceOfResidence => "place_of_residence",
            Field::IdentifyingMarks => "identifying_marks",
            Field::IssueDate => "issue_date",
            Field::Family => "family",
            Field::Face => "face",
            Field::Raw => "raw",
        }
    }

    /// The field named `name`.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The data groups (besides DG1, always read) this field's values come from.
    fn data_groups(self) -> &'static [u8] {
        match self {
            // DG11 holds a passport's full name; DG13 the Vietnamese name with diacritics.
            Field::FullName => &[11, 13],
            Field::BirthDate | Field::Sex | Field::Nationality | Field::Document => &[13],
            Field::Mrz => &[],
            Field::IdNumber
            | Field::Ethnicity
            | Field::Religion
            | Field::PlaceOfOrigin
            | Field::PlaceOfResidence
            | Field::IdentifyingMarks
            | Field::IssueDate
            | Field::Family => &[13],
            Field::Face => &[2],
            // Raw bytes add no data group of their own: only what the other fields (or
            // an explicit `raw_groups` grant) read.
            Field::Raw => &[],
        }
    }

    /// Every data group this field's values are taken from, DG1 included: the raw
    /// bytes of these are no more than the field already gives away in kind.
    fn source_groups(self) -> &'static [u8] {
        match self {
            Field::FullName => &[1, 11, 13],
            Field::BirthDate | Field::Sex | Field::Nationality | Field::Document => &[1, 13],
            Field::Mrz => &[1],
            other => other.data_groups(),
        }
    }

    /// The personal data this field hands over, directly or through what it implies,
    /// each with why.
    fn discloses(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Field::Mrz => &[
                ("mrz", "asked for"),
                ("full_name", "the MRZ holds the name (without diacritics)"),
                ("birth_date", "the MRZ holds it"),
                ("sex", "the MRZ holds it"),
                ("nationality", "the MRZ holds it"),
                (
                    "document",
                    "the MRZ holds kind, issuing state, number and expiry",
                ),
                (
                    "id_number",
                    "a CCCD's MRZ carries the 12-digit number in its optional data",
                ),
                ("can", "a CCCD's document number ends with the card's CAN"),
            ],
            Field::Document => &[
                ("document", "asked for"),
                (
                    "can",
                    "a CCCD's document number ends with the card's CAN, the key that opens the chip",
                ),
                (
                    "id_number (9 of 12 digits)",
                    "a CCCD's document number is the end of the id number",
                ),
            ],
            Field::IdNumber => &[
                ("id_number", "asked for"),
                ("can", "the last 6 digits of a CCCD's id number are its CAN"),
                (
                    "birth province, sex and birth year",
                    "encoded in the first 6 digits of the id number",
                ),
            ],
            Field::FullName => &[("full_name", "asked for")],
            Field::BirthDate => &[("birth_date", "asked for")],
            Field::Sex => &[("sex", "asked for")],
            Field::Nationality => &[("nationality", "asked for")],
            Field::Ethnicity => &[("ethnicity", "asked for")],
            Field::Religion => &[("religion", "asked for")],
            Field::PlaceOfOrigin => &[("place_of_origin", "asked for")],
            Field::PlaceOfResidence => &[("place_of_residence", "asked for")],
            Field::IdentifyingMarks => &[("identifying_marks", "asked for")],
            Field::IssueDate => &[("issue_date", "asked for")],
            Field::Family => &[("family", "asked for")],
            Field::Face => &[("face", "asked for")],
            Field::Raw => &[],
        }
    }
}

/// What the raw bytes of a data group hold, for the fields it implies.
fn group_discloses(group: u8) -> &'static [Field] {
    use Field as F;
    match group {
        1 => &[F::Mrz],
        2 => &[F::Face],
        // A passport's DG11 adds place of birth, address, telephone, profession; a
        // CCCD's DG13 is every Vietnamese field, the unnamed ones included.
        11 => &[
            F::FullName,
            F::IdNumber,
            F::PlaceOfResidence,
            F::PlaceOfOrigin,
        ],
        12 => &[F::IssueDate],
        13 => &[
            F::IdNumber,
            F::FullName,
            F::BirthDate,
            F::Sex,
            F::Nationality,
            F::Ethnicity,
            F::Religion,
            F::PlaceOfOrigin,
            F::PlaceOfResidence,
            F::IdentifyingMarks,
            F::IssueDate,
            F::Document,
            F::Family,
        ],
        _ => &[],
    }
}

/// The data group a `raw` key names (`"DG13"` → 13); `None` for EF.SOD, EF.COM, ….
fn raw_key_group(key: &str) -> Option<u8> {
    key.strip_prefix("DG")?.parse().ok()
}

/// Data groups whose raw bytes hold no personal data: the chip's public keys.
const KEY_GROUPS: [u8; 2] = [14, 15];

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of fields, and the data groups granted as raw bytes beyond what they need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(BTreeSet<Field>, BTreeSet<u8>);

impl FieldSet {
    /// Every field, and as raw bytes the data groups a card's personal data is read
    /// from (DG1, DG2, DG11, DG12, DG13); never the EAC-protected biometrics.
    pub fn all() -> FieldSet {
        FieldSet(Field::ALL.into_iter().collect(), [11, 12, 13].into())
    }

    /// Grants the raw bytes of `groups` (1 to 16) beyond what the fields need
    /// (`raw_groups` of a client rule); they are read when `raw` is asked for.
    pub fn grant_raw_groups(&mut self, groups: impl IntoIterator<Item = u8>) {
        self.1
            .extend(groups.into_iter().filter(|g| (1..=16).contains(g)));
    }

    /// Carries the raw-group grants of `allowed` over to a set a request named.
    pub fn with_grants_of(mut self, allowed: &FieldSet) -> FieldSet {
        self.1.clone_from(&allowed.1);
        self
    }

    /// The data groups `raw` returns: those the other fields come from, and the grants.
    pub fn raw_groups(&self) -> BTreeSet<u8> {
        if !self.contains(Field::Raw) {
            return BTreeSet::new();
        }
        let mut groups: BTreeSet<u8> = self
            .0
            .iter()
            .flat_map(|f| f.source_groups().iter().copied())
            .collect();
        groups.extend(self.1.iter().copied());
        groups.extend(KEY_GROUPS);
        groups
    }

    /// Every piece of personal data a client holding this set can obtain, with how:
    /// what fields imply (`mrz`, `document`, `id_number` on a CCCD) and what the raw
    /// data groups hold. One entry per item, the first reason found.
    pub fn discloses(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut add = |item: &str, why: String| {
            if !out.iter().any(|(i, _)| i == item) {
                out.push((item.to_owned(), why));
            }
        };
        for field in &self.0 {
            for (item, why) in field.discloses() {
                let why = if *why == "asked for" {
                    "allowed".to_owned()
                } else {
                    format!("through {field}: {why}")
                };
                add(item, why);
            }
        }
        for group in self.raw_groups() {
            for field in group_discloses(group) {
                for (item, why) in field.discloses() {
                    let why = if *why == "asked for" {
                        format!("through raw DG{group}")
                    } else {
                        format!("through raw DG{group}: {why}")
                    };
                    add(item, why);
                }
            }
            match group {
                11 => add(
                    "place of birth, address, telephone, profession (passport DG11)",
                    "through raw DG11".into(),
                ),
                12 => add(
                    "issuing authority, endorsements (DG12)",
                    "through raw DG12".into(),
                ),
                13 => add(
                    "every DG13 field, unnamed ones included (vn.extra)",
                    "through raw DG13".into(),
                ),
                3..=10 | 16 => add(
                    &format!("DG{group} (biometrics, portraits, contacts)"),
                    format!("through raw DG{group}"),
                ),
                _ => {}
            }
        }
        out
    }

    /// No field.
    pub fn none() -> FieldSet {
        FieldSet::default()
    }

    /// Parses names; `"all"` stands for every field and every raw data group. Unknown
    /// names are an error naming the first of them.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<FieldSet, String> {
        let mut set = FieldSet::none();
        for name in names {
            if name == "all" {
                set = FieldSet::all();
                continue;
            }
            set.insert(Field::from_name(name).ok_or_else(|| format!("unknown field {name:?}"))?);
        }
        Ok(set)
    }

    /// Whether `field` is in the set.
    pub fn contains(&self, field: Field) -> bool {
        self.0.contains(&field)
    }

    /// Adds `field`.
    pub fn insert(&mut self, field: Field) {
        self.0.insert(field);
    }

    /// Removes `field`.
    pub fn remove(&mut self, field: Field) {
        self.0.remove(&field);
    }

    /// The fields of `self` not in `allowed`.
    pub fn outside(&self, allowed: &FieldSet) -> Vec<Field> {
        self.0.difference(&allowed.0).copied().collect()
    }

    /// The fields in both.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet(
            self.0.intersection(&other.0).copied().collect(),
            self.1.intersection(&other.1).copied().collect(),
        )
    }

    /// The names, in API order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|f| f.name()).collect()
    }

    /// The personal data groups no field of the set needs: the read skips them. (DG1 is
    /// always read; DG14 and DG15 hold the chip's public keys, not personal data.)
    pub fn data_groups_to_skip(&self) -> BTreeSet<u8> {
        let mut needed: BTreeSet<u8> = self
            .0
            .iter()
            .flat_map(|f| f.data_groups().iter().copied())
            .collect();
        needed.extend(self.raw_groups());
        (2..=16u8)
            .filter(|n| !matches!(n, 14 | 15))
            .filter(|n| !needed.contains(n))
            .collect()
    }

    /// Keeps of a serialized `ReadResult` only what the set allows; `verification` is
    /// always kept. Keys this table does not know are dropped.
    pub fn filter(&self, result: &Value) -> Value {
        use Field as F;
        const HOLDER: &[(&str, Field)] = &[
            ("full_name", F::FullName),
            ("surname", F::FullName),
            ("given_names", F::FullName),
            ("birth_date", F::BirthDate),
            ("sex", F::Sex),
            ("nationality", F::Nationality),
        ];
        const DOCUMENT: &[(&str, Field)] = &[
            ("kind", F::Document),
            ("issuing_state", F::Document),
            ("number", F::Document),
            ("expiry_date", F::Document),
            ("mrz", F::Mrz),
        ];
        const VN: &[(&str, Field)] = &[
            ("id_number", F::IdNumber),
            ("old_id_number", F::IdNumber),
            ("field_16", F::IdNumber),
            ("full_name", F::FullName),
            ("birth_date", F::BirthDate),
            ("sex", F::Sex),
            ("nationality", F::Nationality),
            ("ethnicity", F::Ethnicity),
            ("religion", F::Religion),
            ("place_of_origin", F::PlaceOfOrigin),
            ("place_of_residence", F::PlaceOfResidence),
            ("identifying_marks", F::IdentifyingMarks),
            ("issue_date", F::IssueDate),
            ("expiry_date", F::Document),
            ("father_name", F::Family),
            ("mother_name", F::Family),
            ("spouse_name", F::Family),
            // DG13 fields of unknown meaning: for clients given DG13 as raw bytes anyway
            // (handled below).
        ];
        let section = |name: &str, table: &[(&str, Field)]| -> Option<Value> {
            let source = result.get(name)?.as_object()?;
            let kept: Map<String, Value> = table
                .iter()
                .filter(|(_, field)| self.contains(*field))
                .filter_map(|(key, _)| Some(((*key).to_owned(), source.get(*key)?.clone())))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        };
        let mut out = Map::new();
        for (name, table) in [("document", DOCUMENT), ("holder", HOLDER), ("vn", VN)] {
            if let Some(v) = section(name, table) {
                out.insert(name.to_owned(), v);
            }
        }
        if let Some(v) = result.get("face").filter(|_| self.contains(F::Face)) {
            out.insert("face".to_owned(), v.clone());
        }
        let raw_groups = self.raw_groups();
        if let Some(raw) = result.get("raw").and_then(Value::as_object)
            && self.contains(F::Raw)
        {
            // Files other than data groups (EF.SOD, EF.COM, EF.CardAccess, …) hold no
            // personal data beyond hashes; they let a client check the groups it gets.
            let kept: Map<String, Value> = raw
                .iter()
                .filter(|(key, _)| raw_key_group(key).is_none_or(|g| raw_groups.contains(&g)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert("raw".to_owned(), Value::Object(kept));
        }
        if raw_groups.contains(&13)
            && let Some(extra) = result.get("vn").and_then(|vn| vn.get("extra"))
        {
            let vn = out.entry("vn").or_insert_with(|| Value::Object(Map::new()));
            if let Some(vn) = vn.as_object_mut() {
                vn.insert("extra".to_owned(), extra.clone());
            }
        }
        if let Some(v) = result.get("verification") {
            out.insert("verification".to_owned(), v.clone());
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip_and_all_expands() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(FieldSet::parse(["all"]).unwrap(), FieldSet::all());
        assert!(FieldSet::parse(["full_name", "shoe_size"]).is_err());
    }

    #[test]
    fn name_only_skips_the_face_and_document_details() {
        let set = FieldSet::parse(["full_name"]).unwrap();
        let skip = set.data_groups_to_skip();
        assert!(skip.contains(&2), "the face is never read");
        assert!(skip.contains(&12));
        assert!(!skip.contains(&11) && !skip.contains(&13));
        assert!(
            !skip.contains(&14) && !skip.contains(&15),
            "chip keys are read"
        );
        assert_eq!(
            FieldSet::all().data_groups_to_skip(),
            (3..=10).chain(16..=16).collect()
        );
    }

    #[test]
    fn the_filter_keeps_only_allowed_keys_and_verification() {
        let result = json!({
            "document": {"kind": "id-card", "number": "X", "mrz": "M"},
            "holder": {"full_name": "A B", "surname": "B", "birth_date": "2000-01-01"},
            "vn": {"full_name": "Á B", "id_number": "0", "place_of_residence": "P",
                   "field_16": "F", "extra": {"17": "X"}},
            "face": {"format": "png"},
            "raw": {"DG1": "AA=="},
            "verification": {"verdict": "genuine"},
            "something_new": 1
        });
        let name_only = FieldSet::parse(["full_name"]).unwrap().filter(&result);
        assert_eq!(
            name_only,
            json!({
                "holder": {"full_name": "A B", "surname": "B"},
                "vn": {"full_name": "Á B"},
                "verification": {"verdict": "genuine"}
            })
        );
        let everything = FieldSet::all().filter(&result);
        assert_eq!(everything["face"]["format"], "png");
        assert_eq!(everything["vn"]["field_16"], "F");
        assert_eq!(everything["vn"]["extra"]["17"], "X");
        let no_raw = FieldSet::parse(["full_name", "id_number"])
            .unwrap()
            .filter(&result);
        assert_eq!(no_raw["vn"]["field_16"], "F");
        assert!(no_raw["vn"].get("extra").is_none(), "extra only with raw");
        assert_eq!(everything["raw"]["DG1"], "AA==");
        assert!(
            everything.get("something_new").is_none(),
            "unknown keys are dropped"
        );
    }

    #[test]
    fn raw_returns_only_the_groups_the_other_fields_need_unless_granted() {
        let result = json!({
            "vn": {"id_number": "0", "extra": {"17": "X"}},
            "raw": {"EF.SOD": "S", "EF.COM": "C", "DG1": "1", "DG2": "2", "DG13": "13", "DG14": "14"},
            "verification": {"verdict": "genuine"}
        });
        let face_raw = FieldSet::parse(["face", "raw"]).unwrap();
        let out = face_raw.filter(&result);
        let keys: Vec<&String> = out["raw"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["DG14", "DG2", "EF.COM", "EF.SOD"]);
        assert!(out.get("vn").is_none(), "no DG13, no vn.extra");
        assert!(
            face_raw.data_groups_to_skip().contains(&13),
            "DG13 not even read"
        );
        let mut granted = FieldSet::parse(["face", "raw"]).unwrap();
        granted.grant_raw_groups([13]);
        let out = granted.filter(&result);
        assert_eq!(out["raw"]["DG13"], "13");
        assert_eq!(out["vn"]["extra"]["17"], "X");
        assert!(!granted.data_groups_to_skip().contains(&13));
        // A request naming its fields keeps the rule's grants, never more.
        let requested = FieldSet::parse(["face", "raw"])
            .unwrap()
            .with_grants_of(&granted);
        assert_eq!(requested.raw_groups(), granted.raw_groups());
        // Without raw, no raw at all.
        assert!(
            FieldSet::parse(["face"])
                .unwrap()
                .filter(&result)
                .get("raw")
                .is_none()
        );
    }

    #[test]
    fn what_a_rule_discloses_includes_what_its_fields_imply() {
        let items = |names: &[&str]| -> Vec<String> {
            FieldSet::parse(names.iter().copied())
                .unwrap()
                .discloses()
                .into_iter()
                .map(|(item, _)| item)
                .collect()
        };
        let mrz = items(&["mrz"]);
        for item in ["mrz", "full_name", "birth_date", "id_number", "can"] {
            assert!(mrz.iter().any(|i| i == item), "mrz implies {item}: {mrz:?}");
        }
        assert!(items(&["document"]).iter().any(|i| i == "can"));
        assert!(items(&["id_number"]).iter().any(|i| i == "can"));
        assert_eq!(items(&["face"]), ["face"]);
        let raw = items(&["id_number", "raw"]);
        for item in ["place_of_residence", "family", "religion"] {
            assert!(
                raw.iter().any(|i| i == item),
                "raw DG13 gives {item}: {raw:?}"
            );
        }
        assert!(!raw.iter().any(|i| i == "mrz" || i == "face"), "{raw:?}");
    }
}
