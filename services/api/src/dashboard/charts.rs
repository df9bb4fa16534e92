//! Charts drawn on the server as SVG: no charting library to ship, nothing to load from the
//! internet, and the numbers in the picture are the numbers in the table beside it.

use models::render::html_escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;

/// How the values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bars,
    Line,
}

/// An SVG chart of `points` (label, value) with a title and labelled axes.
pub fn chart(
    title: &str,
    x_axis: &str,
    y_axis: &str,
    points: &[(String, f64)],
    shape: Shape,
) -> String {
    let max = points
        .iter()
        .map(|(_, value)| *value)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let step = plot_width / points.len().max(1) as f64;
    let y = |value: f64| TOP + plot_height * (1.0 - value / max);
    let mut svg = String::new();
    svg.push_str(&format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escaped(title)
    ));
    svg.push_str(&format!("<title>{}</title>", escaped(title)));
    svg.push_str(&format!(
        "<text x=\"{LEFT}\" y=\"16\" font-weight=\"600\">{}</text>",
        escaped(title)
    ));
    // Axes, the top and zero of the value axis, and the axis names with their units.
    svg.push_str(&format!(
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{}\"/>\
         <line class=\"axis\" x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"/>",
        TOP + plot_height,
        WIDTH - RIGHT
    ));
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        LEFT - 4.0,
        TOP + 4.0,
        number(max),
        LEFT - 4.0,
        TOP + plot_height
    ));
    svg.push_str(&format!(
        "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {0})\" text-anchor=\"middle\">{}</text>",
        TOP + plot_height / 2.0,
        escaped(y_axis)
    ));
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        LEFT + plot_width / 2.0,
        HEIGHT - 6.0,
        escaped(x_axis)
    ));
    // A label under every few points, so that they do not overlap.
    let every = (points.len() / 6).max(1);
    for (index, (label, _)) in points.iter().enumerate() {
        if index % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                LEFT + step * (index as f64 + 0.5),
                TOP + plot_height + 16.0,
                escaped(label)
            ));
        }
    }
    match shape {
        Shape::Bars => {
            for (index, (label, value)) in points.iter().enumerate() {
                svg.push_str(&format!(
                    "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
                    LEFT + step * index as f64 + step * 0.15,
                    y(*value),
                    step * 0.7,
                    TOP + plot_height - y(*value),
                    escaped(label),
                    number(*value)
                ));
            }
        }
        Shape::Line => {
            let path: Vec<String> = points
                .iter()
                .enumerate()
                .map(|(index, (_, value))| {
                    format!("{:.1},{:.1}", LEFT + step * (index as f64 + 0.5), y(*value))
                })
                .collect();
            svg.push_str(&format!(
                "<polyline class=\"line\" points=\"{}\"/>",
                path.join(" ")
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

fn escaped(text: &str) -> String {
    let mut out = String::new();
    html_escape(&mut out, text);
    out
}

/// A value as people read it: whole numbers without decimals, others with two.
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_its_title_axes_and_one_mark_per_value() {
        let points = vec![("a <b>".to_owned(), 3.0), ("c".to_owned(), 6.0)];
        let svg = chart("Sign-ups", "Week", "Customers", &points, Shape::Bars);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2);
        assert!(svg.contains("<title>Sign-ups</title>"));
        assert!(svg.contains(">Customers</text>") && svg.contains(">Week</text>"));
        assert!(svg.contains("a &lt;b&gt;"), "labels are escaped");
        assert!(
            svg.contains(">6</text>"),
            "the axis tops at the largest value"
        );
        let line = chart("Active", "Week", "Customers", &points, Shape::Line);
        assert_eq!(line.matches("<polyline").count(), 1);
    }
}
