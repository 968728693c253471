use super::*;

/// `a + b` as Redis answers `SET k a` then `INCRBYFLOAT k b`: the new value, or the
/// error's text.
fn incrbyfloat(a: &str, b: &str) -> String {
    match (
        LongDouble::parse(a.as_bytes()),
        LongDouble::parse(b.as_bytes()),
    ) {
        (Some(a), Some(b)) => match a.checked_add(b) {
            Some(sum) => sum.to_string(),
            None => "-ERR increment would produce NaN or Infinity".to_string(),
        },
        _ => "-ERR value is not a valid float".to_string(),
    }
}

/// Each case's answer is the one redis-server 7.0 gave on x86_64.
#[test]
fn sums_print_as_redis_prints_them() {
    let cases = [
        ("10.50", "0.1", "10.6"),
        ("10.6", "-5", "5.6"),
        ("5.0e3", "2.0e2", "5200"),
        ("0.1", "0.2", "0.3"),
        ("1000.1", "0", "1000.09999999999999998"),
        ("1e20", "0.1", "100000000000000000000"),
        ("0.000003814697265625", "0", "0.00000381469726562"),
        ("0.000011444091796875", "0", "0.00001144409179688"),
        ("0", "1e300", "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"),
        ("0", "-1e-30", "0"),
        ("0", "-0", "0"),
        ("16", "0x1p-2", "16.25"),
        ("0", "0x10", "16"),
        ("+1", ".5", "1.5"),
        ("5.", "0", "5"),
        ("12345678901234567890", "1", "12345678901234567891"),
        ("12345678901234567891", "0.5", "12345678901234567892"),
        ("3", "-3", "0"),
        ("-1.5", "1.5", "0"),
        ("1e-4940", "0", "0"),
        ("0x1p-16445", "0", "0"),
        ("0x1p-16446", "0", "-ERR value is not a valid float"),
        ("1.18973149535723176502e4932", "1.18973149535723176502e4932", "-ERR increment would produce NaN or Infinity"),
        ("1e4932", "1e4932", "-ERR increment would produce NaN or Infinity"),
        ("inf", "0", "-ERR increment would produce NaN or Infinity"),
        ("0", "-infinity", "-ERR increment would produce NaN or Infinity"),
        ("1e5000", "0", "-ERR value is not a valid float"),
        ("1e-5000", "0", "-ERR value is not a valid float"),
        ("0e99999", "0", "0"),
        ("nan", "0", "-ERR value is not a valid float"),
        ("1e", "0", "-ERR value is not a valid float"),
        ("0x", "0", "-ERR value is not a valid float"),
        (" 1", "0", "-ERR value is not a valid float"),
        ("", "0", "-ERR value is not a valid float"),
        ("abc", "0", "-ERR value is not a valid float"),
        ("1\0", "0", "-ERR value is not a valid float"),
        ("\0", "0", "-ERR value is not a valid float"),
        ("0X1P3", "-INF", "-ERR increment would produce NaN or Infinity"),
        ("0x1.8", "1e+1", "11.5"),
        ("-0", "-0", "0"),
    ];
    for (a, b, want) in cases {
        assert_eq!(incrbyfloat(a, b), want, "{a:?} + {b:?}");
    }
}

#[test]
fn the_largest_value_prints_in_full() {
    let max = LongDouble::parse(b"1.18973149535723176502e4932").unwrap();
    assert_eq!(
        max.magnitude,
        Magnitude::Finite {
            mantissa: u64::MAX,
            exp: MAX_EXP
        }
    );
    let text = max.to_string();
    assert_eq!(text.len(), 4933);
    assert!(text.starts_with("118973149535723176502126385303097020516906"));
    assert!(text.ends_with("86811989770240"));
    assert_eq!(LongDouble::parse(text.as_bytes()), Some(max), "reads back");
}

#[test]
fn texts_are_read_as_strtold_reads_them_and_no_further() {
    let value = |text: &str| LongDouble::parse(text.as_bytes()).map(|n| n.to_string());
    for (text, want) in [
        ("1.5", Some("1.5")),
        ("-.5e1", Some("-5")),
        ("+5.E-1", Some("0.5")),
        ("0x.8p1", Some("1")),
        ("0xAbC", Some("2748")),
        ("00012.5000", Some("12.5")),
        ("1e0000000000000000000000001", Some("10")),
        ("1e-99999999999999999999999", None),
        ("0e-99999999999999999999999", Some("0")),
        ("Infinity", Some("inf")),
        ("-inf", Some("-inf")),
        ("infinit", None),
        ("nan", None),
        ("-nan", None),
        ("1.2.3", None),
        ("1e5.0", None),
        ("1_000", None),
        ("0x1p", None),
        ("0xp1", None),
        ("0x.", None),
        (".", None),
        ("-", None),
        ("+-1", None),
        ("１", None),
    ] {
        assert_eq!(value(text).as_deref(), want, "{text:?}");
    }
    let longest = format!("0.{}", "1".repeat(MAX_FLOAT_LEN - 2));
    assert!(LongDouble::parse(longest.as_bytes()).is_some());
    let too_long = format!("{longest}1");
    assert_eq!(LongDouble::parse(too_long.as_bytes()), None);
}

#[test]
fn rounding_is_to_nearest_with_ties_to_even() {
    let parse = |text: &str| LongDouble::parse(text.as_bytes()).unwrap();
    // 2^64 + 1 lies halfway between two values 2 apart: it rounds to the even mantissa.
    assert_eq!(parse("18446744073709551617"), parse("18446744073709551616"));
    assert_eq!(parse("18446744073709551619"), parse("18446744073709551620"));
    // The least value, and half of it, which rounds to it (ties to the odd mantissa 1 go up).
    let least = parse("0x1p-16445");
    assert_eq!(
        least.magnitude,
        Magnitude::Finite {
            mantissa: 1,
            exp: MIN_EXP
        }
    );
    assert_eq!(LongDouble::parse(b"0x1.8p-16446"), Some(least));
    assert_eq!(
        LongDouble::parse(b"0x1p-16446"),
        None,
        "a tie with zero: zero"
    );
    // A sum that carries into a new top bit.
    let carried = parse("18446744073709551615")
        .checked_add(parse("1"))
        .unwrap();
    assert_eq!(carried.to_string(), "18446744073709551616");
    // An operand far below the other's last bit leaves it unchanged, added or subtracted.
    let big = parse("0x1p200");
    assert_eq!(big.checked_add(parse("1")), Some(big));
    assert_eq!(big.checked_add(parse("-1")), Some(big));
}
