//! A dump folder's loader (`cancuoc verify DIR`, `cancuoc sim --from-dump DIR`): the
//! manifest, then the files it names, each served from the input instead of a folder.
#![no_main]

use cancuoc::dump::{Dump, DumpError, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes give the manifest's length; the rest is cut into the files.
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (manifest, mut blob) = rest.split_at(len);
    let _ = Manifest::parse(manifest);
    let Ok(text) = std::str::from_utf8(manifest) else {
        return;
    };
    let Ok(manifest) = serde_json::from_str::<Manifest>(text) else {
        return;
    };
    // Each file as long as the manifest says, while the input lasts, so both sizes that
    // match and sizes that do not are reached.
    let sizes = manifest.files.clone();
    let dump = Dump::from_parts(manifest, |name, limit| {
        let size = sizes.get(name).copied().unwrap_or_default().min(limit);
        let take = usize::try_from(size).unwrap_or(usize::MAX).min(blob.len());
        let (file, tail) = blob.split_at(take);
        blob = tail;
        Ok::<_, DumpError>(file.to_vec())
    });
    if let Ok(dump) = dump {
        assert!(dump.file("EF.SOD").is_some());
    }
});
