//! Evaluating conversions: raw value in, physical value or text out.

use super::conversion::{Conversion, Phys, TextRef};

impl Conversion {
    /// A short name for the summary.
    pub fn name(&self) -> String {
        match self {
            Conversion::Identity => "identity".into(),
            Conversion::Linear { .. } => "linear".into(),
            Conversion::Rational(_) => "rational".into(),
            Conversion::Table { interpolate: true, .. } => "table_interpolated".into(),
            Conversion::Table { interpolate: false, .. } => "table".into(),
            Conversion::RangeToValue { .. } => "range_to_value".into(),
            Conversion::ValueToText { .. } => "value_to_text".into(),
            Conversion::RangeToText { .. } => "range_to_text".into(),
            Conversion::NotApplied { cc_type } => format!("not_applied_cc_type_{cc_type}"),
        }
    }

    /// True when no value is changed (raw integers stay exact).
    pub fn is_identity(&self) -> bool {
        matches!(self, Conversion::Identity | Conversion::NotApplied { .. })
    }

    /// Convert a numeric raw value; `integer` says whether the raw channel is an integer
    /// (it decides whether range bounds are inclusive).
    pub fn apply(&self, x: f64, integer: bool) -> Phys<'_> {
        match self {
            Conversion::Identity | Conversion::NotApplied { .. } => Phys::Float(x),
            Conversion::Linear { a, b } => Phys::Float(x * a + b),
            Conversion::Rational(p) => Phys::Float(rational(p, x)),
            Conversion::Table {
                keys,
                values,
                interpolate: true,
            } => Phys::Float(interp(keys, values, x)),
            Conversion::Table {
                keys,
                values,
                interpolate: false,
            } => Phys::Float(nearest(keys, values, x)),
            Conversion::RangeToValue { ranges, default } => {
                let hit = ranges.iter().find(|r| in_range(x, r.0, r.1, integer));
                Phys::Float(hit.map_or(*default, |r| r.2))
            }
            Conversion::ValueToText { keys, texts, default } => {
                let hit = keys.iter().position(|&k| k == x);
                text_out(hit.and_then(|i| texts.get(i)).unwrap_or(default), x, integer)
            }
            Conversion::RangeToText { ranges, texts, default } => {
                let hit = ranges.iter().position(|r| in_range(x, r.0, r.1, integer));
                text_out(hit.and_then(|i| texts.get(i)).unwrap_or(default), x, integer)
            }
        }
    }
}

fn text_out(t: &TextRef, x: f64, integer: bool) -> Phys<'_> {
    match t {
        TextRef::Text(s) => Phys::Text(s),
        TextRef::Scale(c) => c.apply(x, integer),
        TextRef::Identity => Phys::Float(x),
    }
}

fn in_range(x: f64, lo: f64, hi: f64, integer: bool) -> bool {
    if integer { lo <= x && x <= hi } else { lo <= x && x < hi }
}

/// The rational formula, with the same shortcuts asammdf takes for pure scalings.
fn rational(p: &[f64; 6], x: f64) -> f64 {
    let [p1, p2, p3, p4, p5, p6] = *p;
    if p1 == 0.0 && p3 == 0.0 && p4 == 0.0 && p5 == 0.0 {
        if p2 != p6 { x * (p2 / p6) } else { x }
    } else if p2 == 0.0 && p3 == 0.0 && p4 == 0.0 && p6 == 0.0 {
        if p1 != p5 { x * (p1 / p5) } else { x }
    } else {
        (p1 * (x * x) + p2 * x + p3) / (p4 * (x * x) + p5 * x + p6)
    }
}

/// Linear interpolation clamped at the ends, computed like `numpy.interp`.
fn interp(keys: &[f64], values: &[f64], x: f64) -> f64 {
    let (Some(&k0), Some(&kn)) = (keys.first(), keys.last()) else {
        return x;
    };
    if x <= k0 {
        return values[0];
    }
    if x >= kn {
        return values[keys.len() - 1];
    }
    let j = keys.partition_point(|&k| k <= x) - 1;
    if x == keys[j] {
        return values[j];
    }
    let slope = (values[j + 1] - values[j]) / (keys[j + 1] - keys[j]);
    slope * (x - keys[j]) + values[j]
}

/// The value of the nearest key; on a tie the lower key wins.
fn nearest(keys: &[f64], values: &[f64], x: f64) -> f64 {
    if keys.is_empty() {
        return x;
    }
    let hi = keys.partition_point(|&k| k < x).min(keys.len() - 1);
    let lo = hi.saturating_sub(1);
    if (x - keys[hi]).abs() >= (x - keys[lo]).abs() {
        values[lo]
    } else {
        values[hi]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(p: Phys<'_>) -> f64 {
        p.as_f64().unwrap_or(f64::NAN)
    }

    #[test]
    fn linear_and_rational() {
        let lin = Conversion::Linear { a: 2.0, b: 1.0 };
        assert_eq!(float(lin.apply(3.0, true)), 7.0);
        let rat = Conversion::Rational([0.0, 1.0, 0.0, 0.0, 0.0, 4.0]);
        assert_eq!(float(rat.apply(2.0, true)), 0.5);
        let rat = Conversion::Rational([1.0, 0.0, 1.0, 0.0, 1.0, 1.0]);
        assert_eq!(float(rat.apply(2.0, true)), 5.0 / 3.0);
    }

    #[test]
    fn tables_interpolate_or_take_the_nearest_key() {
        let keys = vec![0.0, 10.0, 20.0];
        let values = vec![0.0, 100.0, 400.0];
        let t = Conversion::Table {
            keys: keys.clone(),
            values: values.clone(),
            interpolate: true,
        };
        assert_eq!(float(t.apply(-5.0, true)), 0.0);
        assert_eq!(float(t.apply(5.0, true)), 50.0);
        assert_eq!(float(t.apply(15.0, true)), 250.0);
        assert_eq!(float(t.apply(25.0, true)), 400.0);
        let t = Conversion::Table {
            keys,
            values,
            interpolate: false,
        };
        assert_eq!(float(t.apply(4.0, true)), 0.0);
        assert_eq!(float(t.apply(5.0, true)), 0.0);
        assert_eq!(float(t.apply(6.0, true)), 100.0);
        assert_eq!(float(t.apply(99.0, true)), 400.0);
    }

    #[test]
    fn ranges_are_inclusive_for_integers_and_half_open_for_floats() {
        let c = Conversion::RangeToText {
            ranges: vec![(0.0, 9.0), (10.0, 19.0)],
            texts: vec![TextRef::Text("low".into()), TextRef::Text("high".into())],
            default: TextRef::Text("other".into()),
        };
        assert_eq!(c.apply(9.0, true), Phys::Text("low"));
        assert_eq!(c.apply(9.0, false), Phys::Text("other"));
        assert_eq!(c.apply(12.0, true), Phys::Text("high"));
        let v = Conversion::RangeToValue {
            ranges: vec![(0.0, 1.0, 5.0)],
            default: -1.0,
        };
        assert_eq!(float(v.apply(1.0, true)), 5.0);
        assert_eq!(float(v.apply(1.0, false)), -1.0);
    }

    #[test]
    fn value_to_text_falls_back_to_default_or_nested_scale() {
        let c = Conversion::ValueToText {
            keys: vec![1.0, 2.0],
            texts: vec![
                TextRef::Text("one".into()),
                TextRef::Scale(Box::new(Conversion::Linear { a: 10.0, b: 0.0 })),
            ],
            default: TextRef::Identity,
        };
        assert_eq!(c.apply(1.0, true), Phys::Text("one"));
        assert_eq!(c.apply(2.0, true), Phys::Float(20.0));
        assert_eq!(c.apply(3.0, true), Phys::Float(3.0));
    }
}
