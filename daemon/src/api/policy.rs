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
    /// `raw`: the files as read; also `vn.extra` (DG13 fields of unknown meaning).
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
            Field::Raw => &[11, 12, 13],
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(BTreeSet<Field>);

impl FieldSet {
    /// Every field.
    pub fn all() -> FieldSet {
        FieldSet(Field::ALL.into_iter().collect())
    }

    /// No field.
    pub fn none() -> FieldSet {
        FieldSet::default()
    }

    /// Parses names; `"all"` stands for every field. Unknown names are an error naming
    /// the first of them.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<FieldSet, String> {
        let mut set = BTreeSet::new();
        for name in names {
            if name == "all" {
                set.extend(Field::ALL);
                continue;
            }
            set.insert(Field::from_name(name).ok_or_else(|| format!("unknown field {name:?}"))?);
        }
        Ok(FieldSet(set))
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
        FieldSet(self.0.intersection(&other.0).copied().collect())
    }

    /// The names, in API order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|f| f.name()).collect()
    }

    /// The personal data groups no field of the set needs: the read skips them. (DG1 is
    /// always read; DG14 and DG15 hold the chip's public keys, not personal data.)
    pub fn data_groups_to_skip(&self) -> BTreeSet<u8> {
        let needed: BTreeSet<u8> = self
            .0
            .iter()
            .flat_map(|f| f.data_groups().iter().copied())
            .collect();
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
            // DG13 fields of unknown meaning: for clients allowed DG13 as raw bytes anyway.
            ("extra", F::Raw),
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
        for (name, field) in [("face", F::Face), ("raw", F::Raw)] {
            if let Some(v) = result.get(name).filter(|_| self.contains(field)) {
                out.insert(name.to_owned(), v.clone());
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
}
