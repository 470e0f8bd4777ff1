//! The palette swatches of one sample: the very pairs the palette metric matched, each
//! with its ΔE, so the numbers under the swatches add up to the table's palette ΔE.

use maud::{Markup, html};

use crate::report::view::PaletteView;

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

pub(super) fn swatches(p: &PaletteView<'_>) -> Markup {
    html! {
        h4 {
            "Palette (sample " (p.sample) "): top baseline, bottom now, ΔE below"
            @if let Some(d) = p.distance {
                (format!("; weighted by share, palette ΔE {d:.2}"))
            }
        }
        div.pal {
            @for s in &p.swatches {
                div.sw.far[s.far] title=(format!(
                    "baseline {} ({:.0}% of pixels) → now {} ({:.0}%): {:.0}% of the image matched along this pair",
                    hex(s.base.rgb),
                    s.base.share * 100.0,
                    hex(s.cand.rgb),
                    s.cand.share * 100.0,
                    s.flow.share * 100.0,
                )) {
                    i style={ "background:" (hex(s.base.rgb)) } {}
                    i style={ "background:" (hex(s.cand.rgb)) } {}
                    span { (format!("ΔE {:.1}", s.flow.delta_e)) }
                }
            }
        }
    }
}
