//! The one font the stages draw text with: DejaVu Sans 2.37 Book, embedded (origin and
//! licence in `stages/assets/fonts/README.md`); no system font, no fontconfig.

use std::sync::OnceLock;

use ab_glyph::FontRef;

/// The font file.
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The parsed font (parsed once per process); the error names what failed.
pub(crate) fn dejavu_sans() -> Result<&'static FontRef<'static>, String> {
    static FONT: OnceLock<Result<FontRef<'static>, String>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).map_err(|e| format!("embedded font: {e}")))
        .as_ref()
        .map_err(Clone::clone)
}
