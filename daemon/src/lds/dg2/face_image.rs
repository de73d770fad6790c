//! The face image of DG2: its format from the magic bytes, its dimensions from its own
//! headers (JPEG SOF, JP2 `ihdr`, J2K `SIZ`), checked against [`ImageLimits`] before any
//! decoder sees the data; the decoder runs under the same limits. Decoded faces are
//! re-encoded (JPEG or PNG) so clients never receive the card's bytes, with whatever
//! else they may carry.

use std::io::Cursor;

use super::Reader;
use crate::lds::Error;

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
pub(super) const JP2_MAGIC: &[u8] = &[
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];
pub(super) const J2K_MAGIC: &[u8] = &[0xFF, 0x4F, 0xFF, 0x51];

/// The encoding of a face image as stored on the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (JFIF).
    Jpeg,
    /// JPEG 2000 in a JP2 file.
    Jp2,
    /// A raw JPEG 2000 codestream.
    J2k,
}

impl ImageFormat {
    /// The format the magic bytes at the start of `data` announce.
    pub fn detect(data: &[u8]) -> Option<ImageFormat> {
        if data.starts_with(JPEG_MAGIC) {
            Some(ImageFormat::Jpeg)
        } else if data.starts_with(JP2_MAGIC) {
            Some(ImageFormat::Jp2)
        } else if data.starts_with(J2K_MAGIC) {
            Some(ImageFormat::J2k)
        } else {
            None
        }
    }

    /// MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Jp2 => "image/jp2",
            ImageFormat::J2k => "image/j2k",
        }
    }
}

/// Size limits applied before and during decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    /// Widest image accepted.
    pub max_width: u32,
    /// Tallest image accepted.
    pub max_height: u32,
    /// Most pixels accepted.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    /// 4096 × 4096 and 16 Mpixel: far above any ICAO portrait (typically ≤ 1000 px).
    fn default() -> ImageLimits {
        ImageLimits {
            max_width: 4096,
            max_height: 4096,
            max_pixels: 16_000_000,
        }
    }
}

impl ImageLimits {
    /// An error when `width` × `height` is beyond the limits (or empty).
    pub fn check(&self, width: u32, height: u32) -> Result<(), Error> {
        if width == 0 || height == 0 {
            return Err(Error::Malformed("image with zero width or height"));
        }
        if width > self.max_width
            || height > self.max_height
            || u64::from(width) * u64::from(height) > self.max_pixels
        {
            return Err(Error::ImageTooLarge { width, height });
        }
        Ok(())
    }
}

/// The format a decoded face is re-encoded in for clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// JPEG, quality 90.
    Jpeg,
    /// PNG (lossless).
    Png,
}

impl OutputFormat {
    /// `"jpeg"` or `"png"`, as the result JSON names it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Png => "png",
        }
    }
}

/// A decoded face, re-encoded for clients.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceImage {
    /// The encoding of `data`.
    pub format: OutputFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The encoded image.
    pub data: Vec<u8>,
}

impl core::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FaceImage")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field(
                "data",
                &format_args!("[{} bytes redacted]", self.data.len()),
            )
            .finish()
    }
}

/// Width and height from the image's own headers (JPEG SOF, JP2 `ihdr` and `SIZ`,
/// J2K `SIZ`), read without decoding anything. For JPEG 2000 the limits are applied to
/// every size the file states, since the decoder allocates from them.
pub fn image_dimensions(
    data: &[u8],
    limits: &ImageLimits,
) -> Result<(ImageFormat, u32, u32), Error> {
    let format =
        ImageFormat::detect(data).ok_or(Error::UnsupportedImageFormat("unknown magic bytes"))?;
    let (width, height) = match format {
        ImageFormat::Jpeg => jpeg_size(data)?,
        ImageFormat::J2k => siz(data, limits)?,
        ImageFormat::Jp2 => jp2_size(data, limits)?,
    };
    limits.check(width, height)?;
    Ok((format, width, height))
}

/// JPEG: the frame header (SOF0..SOF15 except DHT C4, JPG C8, DAC CC).
pub(super) fn jpeg_size(data: &[u8]) -> Result<(u32, u32), Error> {
    let mut r = Reader {
        data: data.get(2..).unwrap_or_default(),
    };
    loop {
        // Markers may be preceded by any number of FF fill bytes.
        let mut marker = r.uint(1, "JPEG marker")?;
        if marker != 0xFF {
            return Err(Error::Malformed("JPEG: expected a marker"));
        }
        while marker == 0xFF {
            marker = r.uint(1, "JPEG marker")?;
        }
        match marker {
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => return Err(Error::Malformed("JPEG: no frame header before the scan")),
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let len = r.uint(2, "JPEG frame header")?;
                if len < 8 {
                    return Err(Error::Malformed("JPEG: frame header length"));
                }
                r.take(1, "JPEG frame header")?;
                let height = r.uint(2, "JPEG frame header")?;
                let width = r.uint(2, "JPEG frame header")?;
                if height == 0 {
                    // Height given later by a DNL marker: not worth supporting.
                    return Err(Error::UnsupportedImageFormat("JPEG with DNL height"));
                }
                return Ok((width, height));
            }
            _ => {
                let len = r.uint(2, "JPEG segment")? as usize;
                let body = len
                    .checked_sub(2)
                    .ok_or(Error::Malformed("JPEG: segment length"))?;
                r.take(body, "JPEG segment")?;
            }
        }
    }
}

/// JPEG 2000 codestream: the SIZ marker segment, with the limits applied to every
/// size that drives the decoder's allocations.
fn siz(codestream: &[u8], limits: &ImageLimits) -> Result<(u32, u32), Error> {
    let mut r = Reader { data: codestream };
    if r.take(4, "J2K SIZ")? != J2K_MAGIC {
        return Err(Error::Malformed(
            "J2K: codestream does not start with SOC SIZ",
        ));
    }
    let len = r.uint(2, "J2K SIZ")? as usize;
    let mut s = Reader {
        data: r.take(
            len.checked_sub(2)
                .ok_or(Error::Malformed("J2K SIZ length"))?,
            "J2K SIZ",
        )?,
    };
    s.take(2, "J2K SIZ")?;
    let mut field = || s.uint(4, "J2K SIZ");
    let (x, y, x_off, y_off) = (field()?, field()?, field()?, field()?);
    let (tile_w, tile_h, tile_x_off, tile_y_off) = (field()?, field()?, field()?, field()?);
    let components = s.uint(2, "J2K SIZ")?;
    let width = x
        .checked_sub(x_off)
        .filter(|w| *w > 0)
        .ok_or(Error::Malformed("J2K SIZ: image offset beyond its size"))?;
    let height = y
        .checked_sub(y_off)
        .filter(|h| *h > 0)
        .ok_or(Error::Malformed("J2K SIZ: image offset beyond its size"))?;
    limits.check(width, height)?;
    if !(1..=4).contains(&components) {
        return Err(Error::UnsupportedImageFormat(
            "JPEG 2000 with more than 4 components",
        ));
    }
    if tile_w == 0 || tile_h == 0 || tile_x_off > x_off || tile_y_off > y_off {
        return Err(Error::Malformed("J2K SIZ: tiling"));
    }
    let tiles_x = u64::from(x - tile_x_off).div_ceil(u64::from(tile_w));
    let tiles_y = u64::from(y - tile_y_off).div_ceil(u64::from(tile_h));
    if tiles_x * tiles_y > 16_384 {
        return Err(Error::Malformed("J2K SIZ: too many tiles"));
    }
    for _ in 0..components {
        let depth = s.uint(1, "J2K SIZ component")?;
        let dx = s.uint(1, "J2K SIZ component")?;
        let dy = s.uint(1, "J2K SIZ component")?;
        if (depth & 0x7F) + 1 > 16 || dx == 0 || dy == 0 {
            return Err(Error::UnsupportedImageFormat("JPEG 2000 component layout"));
        }
    }
    Ok((width, height))
}

/// JP2 file: the `ihdr` size and the size of the first codestream (`jp2c`).
fn jp2_size(data: &[u8], limits: &ImageLimits) -> Result<(u32, u32), Error> {
    let mut header_size = None;
    let mut rest = data;
    for _ in 0..64 {
        if rest.is_empty() {
            break;
        }
        let (kind, body, after) = jp2_box(rest)?;
        rest = after;
        match kind {
            b"jp2h" => {
                let mut inner = body;
                while !inner.is_empty() {
                    let (kind, body, after) = jp2_box(inner)?;
                    inner = after;
                    if kind == b"ihdr" {
                        let mut r = Reader { data: body };
                        let height = r.uint(4, "JP2 ihdr")?;
                        let width = r.uint(4, "JP2 ihdr")?;
                        limits.check(width, height)?;
                        header_size = Some((width, height));
                    }
                }
            }
            b"jp2c" => {
                header_size.ok_or(Error::Missing(
                    "JP2 image header (ihdr) before the codestream",
                ))?;
                return siz(body, limits);
            }
            _ => {}
        }
    }
    Err(Error::Missing("JP2 codestream (jp2c)"))
}

/// One JP2 box: its type, its content, and what follows.
type Jp2Box<'a> = (&'a [u8; 4], &'a [u8], &'a [u8]);

pub(super) fn jp2_box(data: &[u8]) -> Result<Jp2Box<'_>, Error> {
    let mut r = Reader { data };
    let len = r.uint(4, "JP2 box")? as u64;
    let kind: &[u8; 4] = r
        .take(4, "JP2 box")?
        .try_into()
        .map_err(|_| Error::Truncated("JP2 box"))?;
    let (header, len) = match len {
        0 => (8, (data.len()) as u64),
        1 => {
            let high = u64::from(r.uint(4, "JP2 box")?);
            let low = u64::from(r.uint(4, "JP2 box")?);
            (16, (high << 32) | low)
        }
        2..=7 => return Err(Error::Malformed("JP2 box length")),
        len => (8, len),
    };
    let len = usize::try_from(len).map_err(|_| Error::Truncated("JP2 box"))?;
    let body = data.get(header..len).ok_or(Error::Truncated("JP2 box"))?;
    let after = data.get(len..).unwrap_or_default();
    Ok((kind, body, after))
}

/// Decodes `data` (of `format`, whose own headers state `size`) under `limits` and
/// re-encodes it as `output`; a decoder that disagrees with the headers is an error.
pub(super) fn decode(
    data: &[u8],
    format: ImageFormat,
    (width, height): (u32, u32),
    limits: &ImageLimits,
    output: OutputFormat,
) -> Result<FaceImage, Error> {
    let image = match format {
        ImageFormat::Jpeg => decode_jpeg(data, limits)?,
        ImageFormat::Jp2 | ImageFormat::J2k => decode_jpeg2000(data)?,
    };
    if image.width() != width || image.height() != height {
        return Err(Error::Malformed(
            "decoded image size differs from its header",
        ));
    }
    encode_output(&image, output)
}

fn decode_jpeg(data: &[u8], limits: &ImageLimits) -> Result<image::DynamicImage, Error> {
    let mut reader = image::ImageReader::with_format(Cursor::new(data), image::ImageFormat::Jpeg);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    // Four bytes a pixel plus the decoder's working space.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8));
    reader.limits(decoder_limits);
    reader.decode().map_err(|e| Error::Image(e.to_string()))
}

fn decode_jpeg2000(data: &[u8]) -> Result<image::DynamicImage, Error> {
    let j2k = jpeg2k::Image::from_bytes(data).map_err(|e| Error::Image(e.to_string()))?;
    let pixels = j2k
        .get_pixels(None)
        .map_err(|e| Error::Image(e.to_string()))?;
    let (w, h) = (pixels.width, pixels.height);
    let short = || Error::Image("JPEG 2000 pixel buffer of the wrong size".to_owned());
    use image::DynamicImage as D;
    use jpeg2k::ImagePixelData as P;
    let image = match pixels.data {
        P::L8(v) => D::ImageLuma8(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::La8(v) => D::ImageLumaA8(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::Rgb8(v) => D::ImageRgb8(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::Rgba8(v) => D::ImageRgba8(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::L16(v) => D::ImageLuma16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::La16(v) => D::ImageLumaA16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::Rgb16(v) => D::ImageRgb16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
        P::Rgba16(v) => D::ImageRgba16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(short)?),
    };
    Ok(image)
}

fn encode_output(image: &image::DynamicImage, output: OutputFormat) -> Result<FaceImage, Error> {
    // Eight bits a channel, no alpha: what every client can show.
    let gray = matches!(
        image.color(),
        image::ColorType::L8
            | image::ColorType::L16
            | image::ColorType::La8
            | image::ColorType::La16
    );
    let image = if gray {
        image::DynamicImage::ImageLuma8(image.to_luma8())
    } else {
        image::DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut data = Vec::new();
    match output {
        OutputFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut data, 90);
            image
                .write_with_encoder(encoder)
                .map_err(|e| Error::Image(e.to_string()))?;
        }
        OutputFormat::Png => {
            let encoder = image::codecs::png::PngEncoder::new(&mut data);
            image
                .write_with_encoder(encoder)
                .map_err(|e| Error::Image(e.to_string()))?;
        }
    }
    Ok(FaceImage {
        format: output,
        width: image.width(),
        height: image.height(),
        data,
    })
}
