//! QR images of a payload: SVG for screens and print, PNG for the app and receipts.

use qrcode::render::svg;
use qrcode::types::Color;
use qrcode::{EcLevel, QrCode};

use crate::CardError;

/// Quiet zone around the symbol, in modules (the standard asks for 4).
const QUIET_ZONE: usize = 4;
/// The largest QR code holds 2 953 bytes at level L; at level M it is 2 331.
const MAX_QR_BYTES: usize = 2_331;
/// PNG images are capped at this many pixels a side.
pub const MAX_PNG_SIDE: u32 = 8_192;

/// The QR code of `payload` as an SVG document (error correction M, quiet zone included).
pub fn render_svg(payload: &str) -> Result<String, CardError> {
    let code = encode(payload)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .min_dimensions(200, 200)
        .build())
}

/// The QR code of `payload` as a 1-bit greyscale PNG, `scale` pixels per module, with the
/// 4-module quiet zone. `scale` must be at least 1 and the image at most
/// [`MAX_PNG_SIDE`] pixels a side.
pub fn render_png(payload: &str, scale: u32) -> Result<Vec<u8>, CardError> {
    if scale == 0 {
        return Err(CardError::Render("scale must be at least 1".into()));
    }
    let code = encode(payload)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side_modules = u32::try_from(modules + 2 * QUIET_ZONE)
        .map_err(|_| CardError::Render("QR code too large".into()))?;
    let side = side_modules
        .checked_mul(scale)
        .filter(|&s| s <= MAX_PNG_SIDE)
        .ok_or_else(|| {
            CardError::Render(format!(
                "image would exceed {MAX_PNG_SIDE} pixels a side; use a smaller scale"
            ))
        })?;

    // 1 bit per pixel, MSB first, 1 = white; each row padded to whole bytes.
    let side_px = side as usize;
    let scale_px = scale as usize;
    let row_bytes = side_px.div_ceil(8);
    let mut data = vec![0u8; row_bytes * side_px];
    for y in 0..side_px {
        let my = (y / scale_px).checked_sub(QUIET_ZONE);
        let row = &mut data[y * row_bytes..(y + 1) * row_bytes];
        for x in 0..side_px {
            let mx = (x / scale_px).checked_sub(QUIET_ZONE);
            let dark = match (mx, my) {
                (Some(mx), Some(my)) if mx < modules && my < modules => {
                    colors[my * modules + mx] == Color::Dark
                }
                _ => false,
            };
            if !dark {
                row[x / 8] |= 0x80 >> (x % 8);
            }
        }
    }

    let mut out = Vec::with_capacity(data.len() / 4 + 128);
    let png_err = |e: png::EncodingError| CardError::Render(format!("PNG encoding failed: {e}"));
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

fn encode(payload: &str) -> Result<QrCode, CardError> {
    if payload.is_empty() {
        return Err(CardError::Render("nothing to encode".into()));
    }
    if payload.len() > MAX_QR_BYTES {
        return Err(CardError::Render(
            "payload is too long for a QR code".into(),
        ));
    }
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| CardError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = "LC1.4006381333931.1700000000.1700000300.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("valid PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("valid PNG data");
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn png_has_magic_and_decodes() {
        let bytes = render_png(PAYLOAD, 4).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h, pixels) = decode(&bytes);
        let modules = encode(PAYLOAD).unwrap().width() as u32;
        assert_eq!((w, h), ((modules + 8) * 4, (modules + 8) * 4));
        assert!(w > 0);
        // Quiet zone is white, the top-left finder pattern's corner is black.
        assert_eq!(pixels[0], 255);
        let at = |x: u32, y: u32| pixels[(y * w + x) as usize];
        assert_eq!(at(16, 16), 0);
        assert_eq!(at(15, 15), 255);
        assert!(pixels.iter().all(|&p| p == 0 || p == 255));
    }

    #[test]
    fn png_decodes_back_to_a_verifiable_payload() {
        use chrono::DateTime;
        let signer = crate::QrSigner::from_seed(&[3; 32]);
        let vc = crate::VirtualCard {
            card: "2000000000428".into(),
            issued_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            expires_at: DateTime::from_timestamp(1_700_000_300, 0).unwrap(),
        };
        let payload = signer.sign(&vc);
        let (w, h, pixels) = decode(&render_png(&payload, 3).unwrap());
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                pixels[y * w as usize + x]
            });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, text) = grids[0].decode().expect("decodable QR");
        assert_eq!(text, payload);
        let now = DateTime::from_timestamp(1_700_000_001, 0).unwrap();
        assert_eq!(signer.verifier().verify(&text, now), Ok(vc));
    }

    #[test]
    fn png_scale_limits() {
        assert_eq!(
            render_png(PAYLOAD, 0).map_err(|e| e.code()),
            Err("QR_RENDER")
        );
        assert_eq!(
            render_png(PAYLOAD, u32::MAX).map_err(|e| e.code()),
            Err("QR_RENDER")
        );
        assert!(render_png(PAYLOAD, 1).is_ok());
    }

    #[test]
    fn svg_is_an_svg() {
        let svg = render_svg(PAYLOAD).unwrap();
        assert!(svg.contains("<svg"));
        assert!(svg.contains("#000000"));
    }

    #[test]
    fn unrenderable_input_is_an_error() {
        let huge = "x".repeat(100_000);
        for bad in ["", huge.as_str(), &"€".repeat(1_000)] {
            assert_eq!(render_svg(bad).map_err(|e| e.code()), Err("QR_RENDER"));
            assert_eq!(render_png(bad, 2).map_err(|e| e.code()), Err("QR_RENDER"));
        }
        // Arbitrary short text (not a payload) still renders: rendering does not verify.
        assert!(render_svg("héllo").is_ok());
    }
}
