//! Charts drawn on the server as SVG: no charting library to ship, nothing to load from the
//! internet, and the numbers in the picture are the numbers in the table beside it.

use models::render::html_escape;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 44.0;
const PLOT_WIDTH: f64 = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT: f64 = HEIGHT - TOP - BOTTOM;
/// One colour per series (CSS classes `s0`...), the first the accent.
const SERIES_CLASSES: usize = 6;
/// Lines of at most this many points get a marker on each.
const MARKED_POINTS: usize = 40;

/// One chart and the table of its values: a row per label, a column per series.
pub struct Chart {
    pub title: String,
    pub x_axis: String,
    pub columns: Vec<String>,
    pub svg: String,
    pub rows: Vec<(String, Vec<String>)>,
}

/// How the values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Bars,
    Line,
}

/// A value with the interval around it (a confidence interval, say).
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

impl Chart {
    /// One series, as bars or a line.
    pub fn new(
        title: &str,
        x_axis: &str,
        y_axis: &str,
        points: Vec<(String, f64)>,
        shape: Shape,
    ) -> Chart {
        let labels: Vec<String> = points.iter().map(|(label, _)| label.clone()).collect();
        let values: Vec<f64> = points.iter().map(|(_, value)| *value).collect();
        let mut frame = Frame::new(title, x_axis, y_axis, &labels, max_of(&values));
        match shape {
            Shape::Bars => frame.bars(&labels, &values),
            Shape::Line => frame.line(&values, 0),
        }
        Chart {
            svg: frame.finish(),
            rows: points
                .iter()
                .map(|(label, value)| (label.clone(), vec![number(*value)]))
                .collect(),
            title: title.to_owned(),
            x_axis: x_axis.to_owned(),
            columns: vec![y_axis.to_owned()],
        }
    }

    /// Several series over the same labels, as lines with a legend.
    pub fn lines(
        title: &str,
        x_axis: &str,
        y_axis: &str,
        labels: Vec<String>,
        series: Vec<(String, Vec<f64>)>,
    ) -> Chart {
        let all: Vec<f64> = series
            .iter()
            .flat_map(|(_, values)| values.clone())
            .collect();
        let mut frame = Frame::new(title, x_axis, y_axis, &labels, max_of(&all));
        for (index, (_, values)) in series.iter().enumerate() {
            frame.line(values, index);
        }
        let names: Vec<String> = series.iter().map(|(name, _)| name.clone()).collect();
        frame.legend(&names);
        Chart {
            svg: frame.finish(),
            rows: labels
                .iter()
                .enumerate()
                .map(|(index, label)| {
                    let cells = series
                        .iter()
                        .map(|(_, values)| values.get(index).map_or(String::new(), |v| number(*v)))
                        .collect();
                    (label.clone(), cells)
                })
                .collect(),
            title: title.to_owned(),
            x_axis: x_axis.to_owned(),
            columns: names,
        }
    }

    /// Estimates as points with their intervals as error bars.
    pub fn intervals(title: &str, x_axis: &str, y_axis: &str, estimates: Vec<Estimate>) -> Chart {
        let labels: Vec<String> = estimates.iter().map(|e| e.label.clone()).collect();
        let tops: Vec<f64> = estimates
            .iter()
            .map(|e| e.interval.map_or(e.value, |(_, high)| high.max(e.value)))
            .collect();
        let mut frame = Frame::new(title, x_axis, y_axis, &labels, max_of(&tops));
        frame.error_bars(&estimates);
        let interval = |e: &Estimate, pick: fn((f64, f64)) -> f64| {
            e.interval
                .map_or("-".to_owned(), |bounds| number(pick(bounds)))
        };
        Chart {
            svg: frame.finish(),
            rows: estimates
                .iter()
                .map(|e| {
                    (
                        e.label.clone(),
                        vec![
                            number(e.value),
                            interval(e, |(low, _)| low),
                            interval(e, |(_, high)| high),
                        ],
                    )
                })
                .collect(),
            title: title.to_owned(),
            x_axis: x_axis.to_owned(),
            columns: vec![
                y_axis.to_owned(),
                "Interval from".to_owned(),
                "Interval to".to_owned(),
            ],
        }
    }
}

fn max_of(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .filter(|value| value.is_finite())
        .fold(0.0_f64, f64::max)
}

/// The SVG being drawn: title, axes and labels first, then the marks.
struct Frame {
    svg: String,
    max: f64,
    step: f64,
}

impl Frame {
    fn new(title: &str, x_axis: &str, y_axis: &str, labels: &[String], max: f64) -> Frame {
        let max = max.max(f64::MIN_POSITIVE);
        let step = PLOT_WIDTH / labels.len().max(1) as f64;
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
            TOP + PLOT_HEIGHT,
            WIDTH - RIGHT
        ));
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
            LEFT - 4.0,
            TOP + 4.0,
            number(max),
            LEFT - 4.0,
            TOP + PLOT_HEIGHT
        ));
        svg.push_str(&format!(
            "<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {0})\" text-anchor=\"middle\">{}</text>",
            TOP + PLOT_HEIGHT / 2.0,
            escaped(y_axis)
        ));
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            LEFT + PLOT_WIDTH / 2.0,
            HEIGHT - 6.0,
            escaped(x_axis)
        ));
        // A label under every few points, so that they do not overlap.
        let every = (labels.len() / 6).max(1);
        for (index, label) in labels.iter().enumerate() {
            if index % every == 0 {
                svg.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                    LEFT + step * (index as f64 + 0.5),
                    TOP + PLOT_HEIGHT + 16.0,
                    escaped(label)
                ));
            }
        }
        Frame { svg, max, step }
    }

    fn x(&self, index: usize) -> f64 {
        LEFT + self.step * (index as f64 + 0.5)
    }

    fn y(&self, value: f64) -> f64 {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        TOP + PLOT_HEIGHT * (1.0 - value / self.max)
    }

    fn bars(&mut self, labels: &[String], values: &[f64]) {
        for (index, (label, value)) in labels.iter().zip(values).enumerate() {
            let top = self.y(*value);
            self.svg.push_str(&format!(
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
                LEFT + self.step * index as f64 + self.step * 0.15,
                self.step * 0.7,
                TOP + PLOT_HEIGHT - top,
                escaped(label),
                number(*value)
            ));
        }
    }

    fn line(&mut self, values: &[f64], series: usize) {
        let path: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(index, value)| format!("{:.1},{:.1}", self.x(index), self.y(*value)))
            .collect();
        self.svg.push_str(&format!(
            "<polyline class=\"line s{}\" points=\"{}\"/>",
            series % SERIES_CLASSES,
            path.join(" ")
        ));
        // Few points: each marked, so that a single day still shows.
        if values.len() <= MARKED_POINTS {
            for (index, value) in values.iter().enumerate() {
                self.svg.push_str(&format!(
                    "<circle class=\"marker s{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                    series % SERIES_CLASSES,
                    self.x(index),
                    self.y(*value)
                ));
            }
        }
    }

    fn legend(&mut self, names: &[String]) {
        for (index, name) in names.iter().enumerate() {
            let x = WIDTH - RIGHT - 110.0;
            let y = TOP + 4.0 + 14.0 * index as f64;
            self.svg.push_str(&format!(
                "<line class=\"line s{}\" x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\"/>\
                 <text x=\"{}\" y=\"{}\">{}</text>",
                index % SERIES_CLASSES,
                x + 16.0,
                x + 20.0,
                y + 4.0,
                escaped(name)
            ));
        }
    }

    fn error_bars(&mut self, estimates: &[Estimate]) {
        for (index, estimate) in estimates.iter().enumerate() {
            let x = self.x(index);
            if let Some((low, high)) = estimate.interval {
                let (top, bottom) = (self.y(high), self.y(low));
                self.svg.push_str(&format!(
                    "<line class=\"whisker\" x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/>\
                     <line class=\"whisker\" x1=\"{:.1}\" y1=\"{top:.1}\" x2=\"{:.1}\" y2=\"{top:.1}\"/>\
                     <line class=\"whisker\" x1=\"{:.1}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\"/>",
                    x - 8.0,
                    x + 8.0,
                    x - 8.0,
                    x + 8.0
                ));
            }
            self.svg.push_str(&format!(
                "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{:.1}\" r=\"5\"><title>{}: {}</title></circle>",
                self.y(estimate.value),
                escaped(&estimate.label),
                number(estimate.value)
            ));
        }
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

fn escaped(text: &str) -> String {
    let mut out = String::new();
    html_escape(&mut out, text);
    out
}

/// A value as people read it: whole numbers without decimals, others with two (four for
/// values too small for two to show).
pub fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.abs() < 0.01 {
        format!("{value:.4}")
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
        let bars = Chart::new("Sign-ups", "Week", "Customers", points.clone(), Shape::Bars);
        assert_eq!(bars.svg.matches("<rect class=\"bar\"").count(), 2);
        assert!(bars.svg.contains("<title>Sign-ups</title>"));
        assert!(bars.svg.contains(">Customers</text>") && bars.svg.contains(">Week</text>"));
        assert!(bars.svg.contains("a &lt;b&gt;"), "labels are escaped");
        assert!(
            bars.svg.contains(">6</text>"),
            "the axis tops at the largest value"
        );
        assert_eq!(bars.rows[1], ("c".to_owned(), vec!["6".to_owned()]));
        let line = Chart::new("Active", "Week", "Customers", points, Shape::Line);
        assert_eq!(line.svg.matches("<polyline").count(), 1);
    }

    #[test]
    fn several_lines_have_a_legend_and_a_column_each() {
        let chart = Chart::lines(
            "Cumulative conversion",
            "Day",
            "Rate",
            vec!["d1".to_owned(), "d2".to_owned()],
            vec![
                ("A".to_owned(), vec![0.1, 0.2]),
                ("B".to_owned(), vec![0.15, 0.25]),
            ],
        );
        // Two series and two legend keys.
        assert_eq!(chart.svg.matches("class=\"line s0\"").count(), 2);
        assert_eq!(chart.svg.matches("class=\"line s1\"").count(), 2);
        assert_eq!(chart.columns, vec!["A", "B"]);
        assert_eq!(
            chart.rows[1],
            ("d2".to_owned(), vec!["0.20".to_owned(), "0.25".to_owned()])
        );
    }

    #[test]
    fn intervals_are_drawn_as_whiskers_and_listed() {
        let chart = Chart::intervals(
            "Conversion by arm",
            "Arm",
            "Rate",
            vec![
                Estimate {
                    label: "A".to_owned(),
                    value: 0.1,
                    interval: Some((0.08, 0.12)),
                },
                Estimate {
                    label: "B".to_owned(),
                    value: 0.2,
                    interval: None,
                },
            ],
        );
        assert_eq!(chart.svg.matches("<circle class=\"point\"").count(), 2);
        assert_eq!(chart.svg.matches("class=\"whisker\"").count(), 3);
        assert!(chart.svg.contains(">0.20</text>"), "the axis tops at B");
        assert_eq!(chart.rows[0].1, vec!["0.10", "0.08", "0.12"]);
        assert_eq!(chart.rows[1].1, vec!["0.20", "-", "-"]);
        assert_eq!(number(0.004), "0.0040", "small values keep their digits");
    }
}
