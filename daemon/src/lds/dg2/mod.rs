//! DG2: the encoded face (ICAO 9303-10 §4.7.2).
//!
//! `75 { 7F61 { 02 count, 7F60 { A1 header, 5F2E | 7F2E data block } … } }`. A `5F2E`
//! block is an ISO/IEC 19794-5 (2005) facial record: the image and a header claiming its
//! type and size. A `7F2E` block is ISO/IEC 39794-5 (ASN.1); rather than depend on its
//! exact tagging, the image is found as the primitive value that starts with JPEG or
//! JPEG 2000 magic bytes.
//!
//! The image itself is read by `face_image`: its format from the magic bytes, its
//! dimensions from its own headers (the biometric header may lie), decoded under
//! [`ImageLimits`] and re-encoded for clients.

use apdu::tlv::{self, Tag, Tlv};

use super::{COUNT_TAG, DataGroup, Error, outer};

mod face_image;

pub use face_image::{FaceImage, ImageFormat, ImageLimits, OutputFormat, image_dimensions};

const BIT_GROUP: Tag = Tag::new(0x7F61);
const BIT: Tag = Tag::new(0x7F60);
const BIT_HEADER: Tag = Tag::new(0xA1);
const BDB_19794: Tag = Tag::new(0x5F2E);
const BDB_39794: Tag = Tag::new(0x7F2E);

/// More faces than any document holds.
const MAX_FACES: usize = 8;

/// Which standard the biometric data block follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaceEncoding {
    /// ISO/IEC 19794-5 (2005), data block tag `5F2E`.
    Iso19794_5,
    /// ISO/IEC 39794-5, data block tag `7F2E`.
    Iso39794_5,
}

/// One face image as extracted from DG2, not yet decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceRecord {
    /// The standard of the data block.
    pub encoding: FaceEncoding,
    /// Image data type the 19794-5 header claims (0 JPEG, 1 JPEG 2000).
    pub header_image_type: Option<u8>,
    /// Width the 19794-5 header claims.
    pub header_width: Option<u32>,
    /// Height the 19794-5 header claims.
    pub header_height: Option<u32>,
    /// The format of `data`, from its magic bytes.
    pub format: ImageFormat,
    /// The image bytes.
    pub data: Vec<u8>,
}

impl core::fmt::Debug for FaceRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FaceRecord")
            .field("encoding", &self.encoding)
            .field("format", &self.format)
            .field("header_width", &self.header_width)
            .field("header_height", &self.header_height)
            .field(
                "data",
                &format_args!("[{} bytes redacted]", self.data.len()),
            )
            .finish()
    }
}

/// The decoded DG2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dg2 {
    /// The face images, in the order of the file (usually one).
    pub faces: Vec<FaceRecord>,
}

impl Dg2 {
    /// Extracts the face images of DG2; nothing is decoded.
    pub fn parse(bytes: &[u8]) -> Result<Dg2, Error> {
        let file = outer(bytes, DataGroup::DG2.tag())?;
        let group = file.require(BIT_GROUP, "DG2 biometric information group (7F61)")?;
        let mut faces = Vec::new();
        for child in group.children() {
            let child = child?;
            match child.tag() {
                COUNT_TAG => {}
                BIT => {
                    for face in instance(&child)? {
                        if faces.len() >= MAX_FACES {
                            return Err(Error::Malformed("DG2: too many faces"));
                        }
                        faces.push(face);
                    }
                }
                _ => {}
            }
        }
        if faces.is_empty() {
            return Err(Error::Missing("DG2 face image"));
        }
        Ok(Dg2 { faces })
    }

    /// The first face, decoded under `limits` and re-encoded as `output`.
    pub fn decode_first(
        &self,
        limits: &ImageLimits,
        output: OutputFormat,
    ) -> Result<FaceImage, Error> {
        self.faces
            .first()
            .ok_or(Error::Missing("DG2 face image"))?
            .decode(limits, output)
    }
}

/// The faces of one biometric information template (`7F60`).
fn instance(bit: &Tlv<'_>) -> Result<Vec<FaceRecord>, Error> {
    if let Some(block) = bit.find(BDB_19794)? {
        return iso19794(block.value());
    }
    if let Some(block) = bit.find(BDB_39794)? {
        return Ok(vec![iso39794(&block)?]);
    }
    Err(Error::Missing("DG2 biometric data block (5F2E or 7F2E)"))
}

/// Big-endian reads that fail instead of panicking.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        let (head, rest) = self
            .data
            .split_at_checked(n)
            .ok_or(Error::Truncated(what))?;
        self.data = rest;
        Ok(head)
    }

    fn uint(&mut self, n: usize, what: &'static str) -> Result<u32, Error> {
        let bytes = self.take(n, what)?;
        Ok(bytes.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
    }
}

/// ISO/IEC 19794-5 (2005): general header, then one facial record per face.
fn iso19794(block: &[u8]) -> Result<Vec<FaceRecord>, Error> {
    let mut r = Reader { data: block };
    if r.take(4, "19794-5 header")? != b"FAC\0" {
        return Err(Error::Malformed("19794-5: format identifier is not FAC"));
    }
    let version = r.take(4, "19794-5 header")?;
    if version != b"010\0" {
        // Later versions lay the header out differently; the image is still there.
        return Ok(vec![by_magic(block, FaceEncoding::Iso19794_5)?]);
    }
    let record_len = r.uint(4, "19794-5 header")? as usize;
    if record_len > block.len() {
        return Err(Error::Truncated("19794-5 record"));
    }
    let count = r.uint(2, "19794-5 header")? as usize;
    if count == 0 {
        return Err(Error::Missing("19794-5 facial record"));
    }
    if count > MAX_FACES {
        return Err(Error::Malformed("19794-5: too many faces"));
    }
    // Only the bytes the record length covers.
    r.data = block
        .get(14..record_len)
        .ok_or(Error::Truncated("19794-5 record"))?;
    let mut faces = Vec::with_capacity(count);
    for _ in 0..count {
        let face_len = r.uint(4, "19794-5 facial record")? as usize;
        let body_len = face_len
            .checked_sub(4)
            .ok_or(Error::Malformed("19794-5: facial record length"))?;
        let mut face = Reader {
            data: r.take(body_len, "19794-5 facial record")?,
        };
        let feature_points = face.uint(2, "19794-5 facial record header")? as usize;
        face.take(14, "19794-5 facial record header")?;
        face.take(feature_points * 8, "19794-5 feature points")?;
        face.take(1, "19794-5 image information")?;
        let image_type = face.uint(1, "19794-5 image information")? as u8;
        let width = face.uint(2, "19794-5 image information")?;
        let height = face.uint(2, "19794-5 image information")?;
        face.take(6, "19794-5 image information")?;
        let data = face.data;
        let format = ImageFormat::detect(data)
            .ok_or(Error::UnsupportedImageFormat("unknown magic bytes"))?;
        faces.push(FaceRecord {
            encoding: FaceEncoding::Iso19794_5,
            header_image_type: Some(image_type),
            header_width: Some(width),
            header_height: Some(height),
            format,
            data: data.to_vec(),
        });
    }
    Ok(faces)
}

/// ISO/IEC 39794-5: the image is the largest primitive value with image magic bytes.
fn iso39794(block: &Tlv<'_>) -> Result<FaceRecord, Error> {
    fn walk<'a>(node: &Tlv<'a>, depth: usize, best: &mut Option<&'a [u8]>) -> Result<(), Error> {
        if depth > tlv::MAX_DEPTH {
            return Err(Error::Malformed("39794-5: nesting too deep"));
        }
        if node.tag().is_constructed() {
            for child in node.children() {
                walk(&child?, depth + 1, best)?;
            }
        } else if ImageFormat::detect(node.value()).is_some()
            && best.is_none_or(|b| b.len() < node.value().len())
        {
            *best = Some(node.value());
        }
        Ok(())
    }
    let mut best = None;
    for child in block.children() {
        walk(&child?, 1, &mut best)?;
    }
    let data = best.ok_or(Error::Missing("39794-5 image data"))?;
    let format = ImageFormat::detect(data).ok_or(Error::UnsupportedImageFormat("unknown"))?;
    Ok(FaceRecord {
        encoding: FaceEncoding::Iso39794_5,
        header_image_type: None,
        header_width: None,
        header_height: None,
        format,
        data: data.to_vec(),
    })
}

/// The image inside a block of unknown layout: from the first JPEG / JPEG 2000 magic.
fn by_magic(block: &[u8], encoding: FaceEncoding) -> Result<FaceRecord, Error> {
    let start = (0..block.len())
        .find(|&i| block.get(i..).and_then(ImageFormat::detect).is_some())
        .ok_or(Error::Missing("face image data"))?;
    let data = block.get(start..).unwrap_or_default();
    let format = ImageFormat::detect(data).ok_or(Error::UnsupportedImageFormat("unknown"))?;
    Ok(FaceRecord {
        encoding,
        header_image_type: None,
        header_width: None,
        header_height: None,
        format,
        data: data.to_vec(),
    })
}

impl FaceRecord {
    /// Checks the claimed and the real dimensions against `limits` without decoding;
    /// returns the real ones.
    pub fn check(&self, limits: &ImageLimits) -> Result<(u32, u32), Error> {
        if let (Some(width), Some(height)) = (self.header_width, self.header_height) {
            limits.check(width, height)?;
        }
        let (_, width, height) = image_dimensions(&self.data, limits)?;
        Ok((width, height))
    }

    /// Decodes the image under `limits` and re-encodes it as `output`.
    pub fn decode(&self, limits: &ImageLimits, output: OutputFormat) -> Result<FaceImage, Error> {
        let (width, height) = self.check(limits)?;
        face_image::decode(&self.data, self.format, (width, height), limits, output)
    }
}

/// Builds a DG2 holding `image` (JPEG or JPEG 2000 bytes) as one ISO/IEC 19794-5 (2005)
/// facial record, as the simulator's card needs. The header states the image's real
/// type and size.
pub fn encode_dg2(image: &[u8]) -> Result<Vec<u8>, Error> {
    let limits = ImageLimits {
        max_width: u32::from(u16::MAX),
        max_height: u32::from(u16::MAX),
        max_pixels: u64::MAX,
    };
    let (format, width, height) = image_dimensions(image, &limits)?;
    let image_type: u8 = if format == ImageFormat::Jpeg { 0 } else { 1 };
    let width = u16::try_from(width).map_err(|_| Error::Encode("DG2: width"))?;
    let height = u16::try_from(height).map_err(|_| Error::Encode("DG2: height"))?;
    let face_len = 20 + 12 + image.len();
    let record_len = 14 + face_len;
    let record_len32 =
        u32::try_from(record_len).map_err(|_| Error::Encode("DG2: image too large"))?;
    let mut record = Vec::with_capacity(record_len);
    record.extend_from_slice(b"FAC\x00010\x00");
    record.extend_from_slice(&record_len32.to_be_bytes());
    record.extend_from_slice(&1u16.to_be_bytes());
    // Facial record header: length, no feature points, everything else unspecified.
    record.extend_from_slice(&(record_len32 - 14).to_be_bytes());
    record.extend_from_slice(&[0; 16]);
    // Image information: full frontal, data type, size, colour space (1: 24-bit RGB),
    // source type (2: digital camera), device type, quality.
    record.extend_from_slice(&[0x01, image_type]);
    record.extend_from_slice(&width.to_be_bytes());
    record.extend_from_slice(&height.to_be_bytes());
    record.extend_from_slice(&[0x01, 0x02, 0x00, 0x00, 0x00, 0x00]);
    record.extend_from_slice(image);

    let mut header = Vec::new();
    tlv::encode_into(Tag::new(0x81), &[0x02], &mut header); // biometric type: face
    tlv::encode_into(Tag::new(0x82), &[0x00], &mut header); // subtype: none
    tlv::encode_into(Tag::new(0x87), &[0x01, 0x01], &mut header); // format owner: ISO/IEC JTC 1/SC 37
    tlv::encode_into(Tag::new(0x88), &[0x00, 0x08], &mut header); // format type: 19794-5
    let mut bit = Vec::new();
    tlv::encode_into(BIT_HEADER, &header, &mut bit);
    tlv::encode_into(BDB_19794, &record, &mut bit);
    let mut group = Vec::new();
    tlv::encode_into(COUNT_TAG, &[1], &mut group);
    tlv::encode_into(BIT, &bit, &mut group);
    Ok(tlv::encode(
        DataGroup::DG2.tag(),
        &tlv::encode(BIT_GROUP, &group),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use face_image::{J2K_MAGIC, JP2_MAGIC, jp2_box, jpeg_size};

    fn bsi_dg2() -> Option<Vec<u8>> {
        Some(crate::reference::read("data/bsi-tr03105-5/Datagroup2.bin"))
    }

    /// A small JPEG made at test time: a gradient, so nothing personal.
    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 5) as u8, 128])
        });
        let mut data = Vec::new();
        image::DynamicImage::ImageRgb8(image)
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut data, 80,
            ))
            .unwrap();
        data
    }

    /// Rewrites the SOF dimensions of a JPEG.
    fn patch_sof(mut data: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
        let at = data
            .windows(2)
            .position(|w| w[0] == 0xFF && w[1] == 0xC0)
            .unwrap();
        data[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
        data[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
        data
    }

    #[test]
    fn bsi_reference_face_is_jpeg2000_and_decodes() {
        let Some(bytes) = bsi_dg2() else { return };
        let dg2 = Dg2::parse(&bytes).unwrap();
        assert_eq!(dg2.faces.len(), 1);
        let face = &dg2.faces[0];
        assert_eq!(face.encoding, FaceEncoding::Iso19794_5);
        assert_eq!(face.format, ImageFormat::Jp2);
        assert_eq!(face.header_image_type, Some(1));
        // The 19794-5 header claims 337 x 449; the image itself is 413 x 531.
        assert_eq!(
            (face.header_width, face.header_height),
            (Some(337), Some(449))
        );
        let limits = ImageLimits::default();
        assert_eq!(face.check(&limits).unwrap(), (413, 531));
        for output in [OutputFormat::Jpeg, OutputFormat::Png] {
            let image = dg2.decode_first(&limits, output).unwrap();
            assert_eq!((image.width, image.height), (413, 531));
            let again = image::load_from_memory(&image.data).unwrap();
            assert_eq!((again.width(), again.height()), (413, 531));
        }
        // Re-encoded for the simulator, it comes back the same.
        let rebuilt = encode_dg2(&face.data).unwrap();
        let parsed = Dg2::parse(&rebuilt).unwrap();
        assert_eq!(parsed.faces[0].data, face.data);
        assert_eq!(parsed.faces[0].header_width, Some(413));
    }

    #[test]
    fn jpeg_round_trip() {
        let data = jpeg(40, 52);
        let dg2 = Dg2::parse(&encode_dg2(&data).unwrap()).unwrap();
        let face = &dg2.faces[0];
        assert_eq!(face.format, ImageFormat::Jpeg);
        assert_eq!(face.header_image_type, Some(0));
        assert_eq!(
            (face.header_width, face.header_height),
            (Some(40), Some(52))
        );
        let image = face
            .decode(&ImageLimits::default(), OutputFormat::Png)
            .unwrap();
        assert_eq!((image.width, image.height), (40, 52));
        assert!(image.data.starts_with(b"\x89PNG"));
        let text = format!("{dg2:?} {image:?}");
        assert!(text.contains("redacted"));
    }

    #[test]
    fn huge_claims_are_refused_before_decoding() {
        // The 19794-5 header claims 60000 x 60000.
        let mut bytes = encode_dg2(&jpeg(16, 16)).unwrap();
        let at = bytes.windows(4).position(|w| w == b"FAC\0").unwrap() + 14 + 20 + 2;
        bytes[at..at + 2].copy_from_slice(&60000u16.to_be_bytes());
        bytes[at + 2..at + 4].copy_from_slice(&60000u16.to_be_bytes());
        let dg2 = Dg2::parse(&bytes).unwrap();
        let err = dg2
            .decode_first(&ImageLimits::default(), OutputFormat::Jpeg)
            .unwrap_err();
        assert_eq!(
            err,
            Error::ImageTooLarge {
                width: 60000,
                height: 60000
            }
        );

        // The header is honest but the JPEG frame header says 60000 x 60000.
        let lying = patch_sof(jpeg(16, 16), 60000, 60000);
        let face = FaceRecord {
            encoding: FaceEncoding::Iso19794_5,
            header_image_type: Some(0),
            header_width: Some(16),
            header_height: Some(16),
            format: ImageFormat::Jpeg,
            data: lying,
        };
        assert_eq!(
            face.decode(&ImageLimits::default(), OutputFormat::Jpeg)
                .unwrap_err(),
            Error::ImageTooLarge {
                width: 60000,
                height: 60000
            }
        );
        // A JPEG 2000 codestream whose SIZ claims 60000 x 60000.
        let mut siz = J2K_MAGIC.to_vec();
        siz.extend_from_slice(&[0x00, 0x29, 0x00, 0x00]);
        for v in [60000u32, 60000, 0, 0, 60000, 60000, 0, 0] {
            siz.extend_from_slice(&v.to_be_bytes());
        }
        siz.extend_from_slice(&[0x00, 0x01, 0x07, 0x01, 0x01]);
        assert_eq!(
            image_dimensions(&siz, &ImageLimits::default()).unwrap_err(),
            Error::ImageTooLarge {
                width: 60000,
                height: 60000
            }
        );
        // Many pixels though each side is within bounds.
        let limits = ImageLimits::default();
        assert!(limits.check(4096, 4096).is_err());
        assert!(limits.check(4000, 4000).is_ok());
        assert!(limits.check(0, 10).is_err());
    }

    #[test]
    fn decoded_size_must_match_the_frame_header() {
        // A frame header shrunk below the real data: the decoder's size differs or fails.
        let data = patch_sof(jpeg(16, 16), 8, 8);
        let face = FaceRecord {
            encoding: FaceEncoding::Iso19794_5,
            header_image_type: None,
            header_width: None,
            header_height: None,
            format: ImageFormat::Jpeg,
            data,
        };
        if let Ok(image) = face.decode(&ImageLimits::default(), OutputFormat::Jpeg) {
            assert_eq!((image.width, image.height), (8, 8));
        }
    }

    #[test]
    fn iso39794_block_yields_its_image() {
        let data = jpeg(24, 32);
        // An invented ASN.1 shape: the parser only needs the image to be a primitive value.
        let mut inner = Vec::new();
        tlv::encode_into(Tag::new(0x80), &[0x00], &mut inner);
        tlv::encode_into(Tag::new(0x80), &data, &mut inner);
        let representation = tlv::encode(Tag::new(0xA1), &tlv::encode(Tag::new(0xA0), &inner));
        let mut bit = Vec::new();
        tlv::encode_into(BIT_HEADER, &[0x87, 0x02, 0x01, 0x01], &mut bit);
        tlv::encode_into(BDB_39794, &representation, &mut bit);
        let mut group = tlv::encode(COUNT_TAG, &[1]);
        tlv::encode_into(BIT, &bit, &mut group);
        let dg2 = tlv::encode(Tag::new(0x75), &tlv::encode(BIT_GROUP, &group));
        let dg2 = Dg2::parse(&dg2).unwrap();
        assert_eq!(dg2.faces[0].encoding, FaceEncoding::Iso39794_5);
        assert_eq!(dg2.faces[0].data, data);
        let image = dg2
            .decode_first(&ImageLimits::default(), OutputFormat::Jpeg)
            .unwrap();
        assert_eq!((image.width, image.height), (24, 32));
    }

    #[test]
    fn truncated_and_odd_inputs_error_cleanly() {
        let good = encode_dg2(&jpeg(16, 16)).unwrap();
        // Every truncation fails cleanly (the TLV length no longer matches).
        for len in 0..good.len() {
            assert!(Dg2::parse(&good[..len]).is_err(), "{len}");
        }
        assert!(matches!(
            Dg2::parse(&[0x61, 0x00]),
            Err(Error::WrongTag { .. })
        ));
        assert!(Dg2::parse(&[0x75, 0x00]).is_err());
        assert!(Dg2::parse(&[0x75, 0x03, 0x7F, 0x61, 0x00]).is_err());
        // A 19794-5 block cut short inside, with consistent TLV lengths.
        let record = b"FAC\x00010\x00\x00\x00\x00\x40\x00\x01";
        let mut bit = tlv::encode(BDB_19794, record);
        bit = tlv::encode(BIT, &bit);
        let dg2 = tlv::encode(Tag::new(0x75), &tlv::encode(BIT_GROUP, &bit));
        assert!(Dg2::parse(&dg2).is_err());
        // Image data that is no image.
        for data in [
            &b"GIF89a"[..],
            &[0xFF, 0xD8, 0xFF, 0xE0, 0x00],
            &[0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x02],
            JP2_MAGIC,
        ] {
            assert!(image_dimensions(data, &ImageLimits::default()).is_err());
        }
        // JPEG segments with bad lengths, and scans before the frame header.
        assert!(jpeg_size(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01]).is_err());
        assert!(jpeg_size(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]).is_err());
        assert!(jpeg_size(&[0xFF, 0xD8, 0x00]).is_err());
        // JP2 boxes of impossible sizes.
        assert!(jp2_box(&[0, 0, 0, 3, b'j', b'p', b'2', b'c']).is_err());
        assert!(
            jp2_box(&[
                0, 0, 0, 1, b'j', b'p', b'2', b'c', 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0
            ])
            .is_err()
        );
        assert!(jp2_box(&[0xFF, 0xFF, 0xFF, 0xFF, b'j', b'p', b'2', b'c']).is_err());
        // Corrupt image data is an error from the decoder, not a panic.
        let mut data = jpeg(16, 16);
        let len = data.len();
        for b in data.iter_mut().skip(len / 2).take(len / 4) {
            *b = 0xFF;
        }
        let face = FaceRecord {
            encoding: FaceEncoding::Iso19794_5,
            header_image_type: None,
            header_width: None,
            header_height: None,
            format: ImageFormat::Jpeg,
            data,
        };
        let _ = face.decode(&ImageLimits::default(), OutputFormat::Jpeg);
    }
}
