//! What a client may have: the result fields, which data groups they need, and the
//! filter that keeps everything else out of an answer.
//!
//! A field is the unit of the policy. Each lives in known data groups; a read is asked
//! only for the data groups some allowed, requested field needs, so a field a client may
//! not have is not even read from the card (DG1 excepted: it carries the MRZ the read is
//! checked against). The filter works on the typed result ([`FieldSet::filter`]): what a
//! set does not allow is `None` before anything is serialized, and every key of the
//! identity's sections is named there, so a key added to them does not compile until it
//! is given its field.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use crate::lds::dg13::VnIdentity;
use crate::session::Partial;
use crate::session::result::{
    Document, Holder, ReadResult, Shown, ShownDocument, ShownHolder, ShownPartial, ShownVn,
};

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

    /// Every field, and every data group as raw bytes: the whole result, as a local
    /// read shows it to the one who holds the card.
    pub fn whole() -> FieldSet {
        let mut set = FieldSet::all();
        set.grant_raw_groups(1..=16);
        set
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

    /// Keeps of `result` only what the set allows; `verification` always.
    pub fn filter<'a>(&self, result: &'a ReadResult) -> Shown<'a> {
        let raw_groups = self.raw_groups();
        let raw = result
            .raw
            .as_ref()
            .filter(|_| self.contains(Field::Raw))
            .map(|raw| {
                // Files other than data groups (EF.SOD, EF.COM, EF.CardAccess, …) hold no
                // personal data beyond hashes; they let a client check the groups it gets.
                raw.iter()
                    .filter(|(key, _)| raw_key_group(key).is_none_or(|g| raw_groups.contains(&g)))
                    .map(|(key, data)| (Cow::Borrowed(key.as_str()), Cow::Borrowed(data.as_str())))
                    .collect()
            });
        Shown {
            document: self.document(result.document.as_ref()),
            holder: self.holder(result.holder.as_ref()),
            vn: self.vn(result.vn.as_ref()),
            face: result
                .face
                .as_ref()
                .filter(|_| self.contains(Field::Face))
                .map(Cow::Borrowed),
            raw,
            verification: Cow::Borrowed(&result.verification),
        }
    }

    /// Keeps of a partial result (a `read-partial` event) only what the set allows.
    pub fn filter_partial<'a>(&self, partial: &'a Partial) -> ShownPartial<'a> {
        ShownPartial {
            document: self.document(partial.document.as_ref()),
            holder: self.holder(partial.holder.as_ref()),
            vn: self.vn(partial.vn.as_ref()),
            verdict: partial.verdict,
        }
    }

    /// `document`, when the set allows a key of it.
    fn document<'a>(&self, document: Option<&'a Document>) -> Option<ShownDocument<'a>> {
        // Every key named, so a key added to `Document` is a compile error here rather
        // than a key silently dropped or passed.
        let Document {
            kind,
            issuing_state,
            number,
            expiry_date,
            mrz,
        } = document?;
        let details = self.contains(Field::Document);
        let shown = ShownDocument {
            kind: details.then_some(Cow::Borrowed(*kind)),
            issuing_state: details.then_some(Cow::Borrowed(issuing_state.as_str())),
            number: details.then_some(Cow::Borrowed(number.as_str())),
            expiry_date: details.then_some(Cow::Borrowed(expiry_date)),
            mrz: self
                .contains(Field::Mrz)
                .then_some(Cow::Borrowed(mrz.as_str())),
        };
        (details || shown.mrz.is_some()).then_some(shown)
    }

    /// `holder`, when the set allows a key of it.
    fn holder<'a>(&self, holder: Option<&'a Holder>) -> Option<ShownHolder<'a>> {
        let Holder {
            full_name,
            surname,
            given_names,
            birth_date,
            sex,
            nationality,
        } = holder?;
        let name = self.contains(Field::FullName);
        let shown = ShownHolder {
            full_name: name.then_some(Cow::Borrowed(full_name.as_str())),
            surname: name.then_some(Cow::Borrowed(surname.as_str())),
            given_names: name.then_some(Cow::Borrowed(given_names.as_str())),
            birth_date: self
                .contains(Field::BirthDate)
                .then_some(Cow::Borrowed(birth_date)),
            sex: self.contains(Field::Sex).then_some(Cow::Borrowed(*sex)),
            nationality: self
                .contains(Field::Nationality)
                .then_some(Cow::Borrowed(nationality.as_str())),
        };
        let any = [
            Field::FullName,
            Field::BirthDate,
            Field::Sex,
            Field::Nationality,
        ]
        .into_iter()
        .any(|f| self.contains(f));
        any.then_some(shown)
    }

    /// `vn`, when the set allows a key of it (`extra` among them).
    fn vn<'a>(&self, vn: Option<&'a VnIdentity>) -> Option<ShownVn<'a>> {
        let VnIdentity {
            id_number,
            full_name,
            birth_date,
            sex,
            nationality,
            ethnicity,
            religion,
            place_of_origin,
            place_of_residence,
            identifying_marks,
            issue_date,
            expiry_date,
            father_name,
            mother_name,
            spouse_name,
            old_id_number,
            field_16,
            extra,
        } = vn?;
        let has = |field| self.contains(field);
        let shown = ShownVn {
            id_number: has(Field::IdNumber).then_some(Cow::Borrowed(id_number)),
            old_id_number: has(Field::IdNumber).then_some(Cow::Borrowed(old_id_number)),
            field_16: has(Field::IdNumber).then_some(Cow::Borrowed(field_16)),
            full_name: has(Field::FullName).then_some(Cow::Borrowed(full_name)),
            birth_date: has(Field::BirthDate).then_some(Cow::Borrowed(birth_date)),
            sex: has(Field::Sex).then_some(Cow::Borrowed(sex)),
            nationality: has(Field::Nationality).then_some(Cow::Borrowed(nationality)),
            ethnicity: has(Field::Ethnicity).then_some(Cow::Borrowed(ethnicity)),
            religion: has(Field::Religion).then_some(Cow::Borrowed(religion)),
            place_of_origin: has(Field::PlaceOfOrigin).then_some(Cow::Borrowed(place_of_origin)),
            place_of_residence: has(Field::PlaceOfResidence)
                .then_some(Cow::Borrowed(place_of_residence)),
            identifying_marks: has(Field::IdentifyingMarks)
                .then_some(Cow::Borrowed(identifying_marks)),
            issue_date: has(Field::IssueDate).then_some(Cow::Borrowed(issue_date)),
            expiry_date: has(Field::Document).then_some(Cow::Borrowed(expiry_date)),
            father_name: has(Field::Family).then_some(Cow::Borrowed(father_name)),
            mother_name: has(Field::Family).then_some(Cow::Borrowed(mother_name)),
            spouse_name: has(Field::Family).then_some(Cow::Borrowed(spouse_name)),
            // DG13 fields of unknown meaning: for clients given DG13 as raw bytes anyway.
            extra: (self.raw_groups().contains(&13) && !extra.is_empty())
                .then_some(Cow::Borrowed(extra)),
        };
        let named = Field::ALL
            .into_iter()
            .filter(|f| !matches!(f, Field::Mrz | Field::Face | Field::Raw))
            .any(has);
        (named || shown.extra.is_some()).then_some(shown)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::session::result::Verdict;
    use serde_json::Value;

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
    fn raw_reads_only_the_groups_the_other_fields_need_unless_granted() {
        let face_raw = FieldSet::parse(["face", "raw"]).unwrap();
        assert!(
            face_raw.data_groups_to_skip().contains(&13),
            "DG13 not even read"
        );
        let mut granted = FieldSet::parse(["face", "raw"]).unwrap();
        granted.grant_raw_groups([13]);
        assert!(!granted.data_groups_to_skip().contains(&13));
        // A request naming its fields keeps the rule's grants, never more.
        let requested = FieldSet::parse(["face", "raw"])
            .unwrap()
            .with_grants_of(&granted);
        assert_eq!(requested.raw_groups(), granted.raw_groups());
    }

    /// The simulator's genuine Vietnamese card read whole, its files and face included,
    /// with a DG13 field of unknown meaning added; and the partial result the read
    /// reported before the face.
    fn genuine_read() -> (ReadResult, Partial) {
        let mut card = crate::sim_read::SimulatedCard::load("vn-cccd").expect("vn-cccd loads");
        card.request.raw = true;
        let mut chip = apdu::emulator::CardEmulator::new(card.profile.image.clone());
        let mut partial = None;
        let (mut result, _) = crate::session::read_card(
            &mut chip,
            &card.request,
            &card.trust,
            &mut apdu::rng::SystemRng,
            &mut |p| {
                if let Some(p) = p.partial {
                    partial = Some((*p).clone());
                }
            },
        )
        .expect("the simulated card reads");
        assert_eq!(result.verification.verdict, Verdict::Genuine);
        let mut partial: Partial = partial.expect("a partial result before the face");
        for vn in [result.vn.as_mut(), partial.vn.as_mut()] {
            vn.expect("the DG13 identity")
                .extra
                .0
                .insert(17, "X".into());
        }
        (result, partial)
    }

    /// Field sets: every field alone, none, all, and a few combinations.
    pub(crate) fn sets() -> Vec<(String, FieldSet)> {
        let mut sets: Vec<(String, FieldSet)> = Field::ALL
            .into_iter()
            .map(|f| (f.name().to_owned(), FieldSet::parse([f.name()]).unwrap()))
            .collect();
        sets.push(("none".into(), FieldSet::none()));
        sets.push(("all".into(), FieldSet::all()));
        for names in [
            &["full_name", "raw"][..],
            &["face", "raw"],
            &["id_number", "document", "raw"],
            &["mrz", "family", "sex"],
        ] {
            sets.push((
                names.join(","),
                FieldSet::parse(names.iter().copied()).unwrap(),
            ));
        }
        let mut granted = FieldSet::parse(["face", "raw"]).unwrap();
        granted.grant_raw_groups([13]);
        sets.push(("face,raw+DG13".into(), granted));
        sets
    }

    /// The keys of a filtered result: `section.key` inside document, holder, vn and raw,
    /// the key alone elsewhere.
    fn paths(value: &Value) -> String {
        let mut out = Vec::new();
        for (key, v) in value.as_object().unwrap() {
            match (key.as_str(), v.as_object()) {
                ("document" | "holder" | "vn" | "raw", Some(inner)) => {
                    out.extend(inner.keys().map(|k| format!("{key}.{k}")))
                }
                _ => out.push(key.clone()),
            }
        }
        out.join(" ")
    }

    /// What each field set keeps of the simulated card's genuine result and of its
    /// partial result: the JSON a client receives, pinned key by key.
    #[test]
    fn each_field_set_keeps_its_keys_of_a_genuine_read() {
        let expected: &[(&str, &str, &str)] = &[
            (
                "full_name",
                "holder.full_name holder.given_names holder.surname verification vn.full_name",
                "holder.full_name holder.given_names holder.surname verdict vn.full_name",
            ),
            (
                "birth_date",
                "holder.birth_date verification vn.birth_date",
                "holder.birth_date verdict vn.birth_date",
            ),
            (
                "sex",
                "holder.sex verification vn.sex",
                "holder.sex verdict vn.sex",
            ),
            (
                "nationality",
                "holder.nationality verification vn.nationality",
                "holder.nationality verdict vn.nationality",
            ),
            (
                "document",
                "document.expiry_date document.issuing_state document.kind document.number verification vn.expiry_date",
                "document.expiry_date document.issuing_state document.kind document.number verdict vn.expiry_date",
            ),
            ("mrz", "document.mrz verification", "document.mrz verdict"),
            (
                "id_number",
                "verification vn.field_16 vn.id_number vn.old_id_number",
                "verdict vn.field_16 vn.id_number vn.old_id_number",
            ),
            (
                "ethnicity",
                "verification vn.ethnicity",
                "verdict vn.ethnicity",
            ),
            (
                "religion",
                "verification vn.religion",
                "verdict vn.religion",
            ),
            (
                "place_of_origin",
                "verification vn.place_of_origin",
                "verdict vn.place_of_origin",
            ),
            (
                "place_of_residence",
                "verification vn.place_of_residence",
                "verdict vn.place_of_residence",
            ),
            (
                "identifying_marks",
                "verification vn.identifying_marks",
                "verdict vn.identifying_marks",
            ),
            (
                "issue_date",
                "verification vn.issue_date",
                "verdict vn.issue_date",
            ),
            (
                "family",
                "verification vn.father_name vn.mother_name vn.spouse_name",
                "verdict vn.father_name vn.mother_name vn.spouse_name",
            ),
            ("face", "face verification", "verdict"),
            (
                "raw",
                "raw.DG14 raw.DG15 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification",
                "verdict",
            ),
            ("none", "verification", "verdict"),
            (
                "all",
                "document.expiry_date document.issuing_state document.kind document.mrz document.number face holder.birth_date holder.full_name holder.given_names holder.nationality holder.sex holder.surname raw.DG1 raw.DG13 raw.DG14 raw.DG15 raw.DG2 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification vn.birth_date vn.ethnicity vn.expiry_date vn.extra vn.father_name vn.field_16 vn.full_name vn.id_number vn.identifying_marks vn.issue_date vn.mother_name vn.nationality vn.old_id_number vn.place_of_origin vn.place_of_residence vn.religion vn.sex vn.spouse_name",
                "document.expiry_date document.issuing_state document.kind document.mrz document.number holder.birth_date holder.full_name holder.given_names holder.nationality holder.sex holder.surname verdict vn.birth_date vn.ethnicity vn.expiry_date vn.extra vn.father_name vn.field_16 vn.full_name vn.id_number vn.identifying_marks vn.issue_date vn.mother_name vn.nationality vn.old_id_number vn.place_of_origin vn.place_of_residence vn.religion vn.sex vn.spouse_name",
            ),
            (
                "full_name,raw",
                "holder.full_name holder.given_names holder.surname raw.DG1 raw.DG13 raw.DG14 raw.DG15 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification vn.extra vn.full_name",
                "holder.full_name holder.given_names holder.surname verdict vn.extra vn.full_name",
            ),
            (
                "face,raw",
                "face raw.DG14 raw.DG15 raw.DG2 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification",
                "verdict",
            ),
            (
                "id_number,document,raw",
                "document.expiry_date document.issuing_state document.kind document.number raw.DG1 raw.DG13 raw.DG14 raw.DG15 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification vn.expiry_date vn.extra vn.field_16 vn.id_number vn.old_id_number",
                "document.expiry_date document.issuing_state document.kind document.number verdict vn.expiry_date vn.extra vn.field_16 vn.id_number vn.old_id_number",
            ),
            (
                "mrz,family,sex",
                "document.mrz holder.sex verification vn.father_name vn.mother_name vn.sex vn.spouse_name",
                "document.mrz holder.sex verdict vn.father_name vn.mother_name vn.sex vn.spouse_name",
            ),
            (
                "face,raw+DG13",
                "face raw.DG13 raw.DG14 raw.DG15 raw.DG2 raw.EF.COM raw.EF.CardAccess raw.EF.SOD verification vn.extra",
                "verdict vn.extra",
            ),
        ];
        let (result, partial) = genuine_read();
        let full = serde_json::to_value(&result).unwrap();
        let full_partial = serde_json::to_value(&partial).unwrap();
        let sets = sets();
        assert_eq!(sets.len(), expected.len());
        for ((name, set), (want_name, want, want_partial)) in sets.iter().zip(expected) {
            assert_eq!(name, want_name);
            let shown = serde_json::to_value(set.filter(&result)).unwrap();
            assert_eq!(paths(&shown), *want, "{name}");
            same_values(&shown, &full, name);
            let shown = serde_json::to_value(set.filter_partial(&partial)).unwrap();
            assert_eq!(paths(&shown), *want_partial, "partial {name}");
            same_values(&shown, &full_partial, name);
        }
    }

    /// What a local read shows of its own result is the whole result; every shown
    /// result, and every shown partial, reads back from its JSON to the same JSON.
    #[test]
    fn shown_results_are_whole_and_read_back() {
        let (result, partial) = genuine_read();
        let full = serde_json::to_value(&result).unwrap();
        assert_eq!(
            serde_json::to_value(FieldSet::whole().filter(&result)).unwrap(),
            full
        );
        assert_eq!(
            serde_json::to_value(FieldSet::whole().filter_partial(&partial)).unwrap(),
            serde_json::to_value(&partial).unwrap()
        );
        let mut sets = sets();
        sets.push(("whole".into(), FieldSet::whole()));
        for (name, set) in sets {
            let json = serde_json::to_value(set.filter(&result)).unwrap();
            let back: Shown<'static> = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(serde_json::to_value(back).unwrap(), json, "{name}");
            let json = serde_json::to_value(set.filter_partial(&partial)).unwrap();
            let back: ShownPartial<'static> = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(serde_json::to_value(back).unwrap(), json, "partial {name}");
        }
        // A key there as `null` stays there; dates that are text stay text.
        let mut odd = result.clone();
        let vn = odd.vn.as_mut().unwrap();
        vn.religion = None;
        vn.expiry_date = Some(crate::lds::dg13::VnDate::new("Không thời hạn"));
        odd.document.as_mut().unwrap().expiry_date = None;
        let json = serde_json::to_value(FieldSet::whole().filter(&odd)).unwrap();
        assert_eq!(json["vn"]["religion"], Value::Null);
        assert_eq!(json["vn"]["expiry_date"], "Không thời hạn");
        let back: Shown<'static> = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(back).unwrap(), json);
    }

    /// Every value kept is the value the whole result has there.
    fn same_values(shown: &Value, full: &Value, name: &str) {
        for (key, value) in shown.as_object().unwrap() {
            match (key.as_str(), value.as_object()) {
                ("document" | "holder" | "vn" | "raw", Some(inner)) => {
                    for (k, v) in inner {
                        assert_eq!(Some(v), full[key].get(k), "{name}: {key}.{k}");
                    }
                }
                _ => assert_eq!(Some(value), full.get(key), "{name}: {key}"),
            }
        }
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
