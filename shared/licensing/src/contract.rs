//! Contract fields an admin enters per license (Effective Date, Expiration Date, Cost,
//! Currency, Payment Frequency), parsed and validated with errors that name the field.
//!
//! Stored as text (`ports::ContractRecord`); [`Contract::from_stored`] reads them back
//! and [`ContractFields`] writes them.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::currency::{self, Currency};

/// Largest cost accepted (one payment for one license), in whole currency units.
pub const MAX_COST: u64 = 1_000_000_000_000_000;
/// Most decimal places a cost may have.
pub const MAX_COST_SCALE: u32 = 4;

/// The contract fields, in the order admins see them.
pub const FIELDS: [&str; 5] = [
    "effective_date",
    "expiration_date",
    "cost",
    "currency",
    "payment_frequency",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaymentFrequency {
    #[serde(rename = "monthly")]
    Monthly,
    #[serde(rename = "quarterly")]
    Quarterly,
    #[serde(rename = "annual")]
    Annual,
    #[serde(rename = "one-time")]
    OneTime,
}

impl PaymentFrequency {
    pub const ALL: [PaymentFrequency; 4] =
        [Self::Monthly, Self::Quarterly, Self::Annual, Self::OneTime];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Annual => "annual",
            Self::OneTime => "one-time",
        }
    }

    /// Months one payment covers; `None` for one-time (the contract's term decides).
    pub fn months(self) -> Option<u32> {
        match self {
            Self::Monthly => Some(1),
            Self::Quarterly => Some(3),
            Self::Annual => Some(12),
            Self::OneTime => None,
        }
    }
}

impl fmt::Display for PaymentFrequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentFrequency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!("must be one of monthly, quarterly, annual or one-time, not {s:?}")
            })
    }
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.field, self.message)
    }
}

/// Every problem found in a contract change (all fields are checked, not just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid contract fields: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct ValidationError(pub Vec<FieldError>);

impl ValidationError {
    pub fn fields(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.field.as_str()).collect()
    }
}

/// A license's contract, typed. Every field is optional: admins fill them in over time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contract {
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub cost: Option<Decimal>,
    pub currency: Option<Currency>,
    pub payment_frequency: Option<PaymentFrequency>,
}

/// The contract as stored and shown: dates `YYYY-MM-DD`, cost as decimal text, codes as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractFields {
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub cost: Option<String>,
    pub currency: Option<String>,
    pub payment_frequency: Option<String>,
}

impl ContractFields {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl Contract {
    /// Reads stored fields back (they were validated when written; a value that no longer
    /// parses is reported as a field error rather than silently dropped).
    pub fn from_stored(fields: &ContractFields) -> Result<Self, ValidationError> {
        let mut errors = Vec::new();
        let mut contract = Contract {
            effective_date: fields.effective_date,
            expiration_date: fields.expiration_date,
            ..Default::default()
        };
        if let Some(cost) = &fields.cost {
            match parse_cost(&Value::String(cost.clone())) {
                Ok(c) => contract.cost = Some(c),
                Err(m) => errors.push(err("cost", m)),
            }
        }
        if let Some(code) = &fields.currency {
            match parse_currency(&Value::String(code.clone())) {
                Ok(c) => contract.currency = Some(c),
                Err(m) => errors.push(err("currency", m)),
            }
        }
        if let Some(p) = &fields.payment_frequency {
            match p.parse::<PaymentFrequency>() {
                Ok(p) => contract.payment_frequency = Some(p),
                Err(m) => errors.push(err("payment_frequency", m)),
            }
        }
        if errors.is_empty() {
            Ok(contract)
        } else {
            Err(ValidationError(errors))
        }
    }

    pub fn to_stored(&self) -> ContractFields {
        ContractFields {
            effective_date: self.effective_date,
            expiration_date: self.expiration_date,
            cost: self.cost.map(|c| c.normalize().to_string()),
            currency: self.currency.map(|c| c.code.to_owned()),
            payment_frequency: self.payment_frequency.map(|p| p.as_str().to_owned()),
        }
    }

    /// Applies a change given as a JSON object of contract fields: a value sets the field,
    /// `null` clears it, an absent field stays as it is. Every field is checked and every
    /// problem reported; the combined contract must have its expiration after its effective
    /// date. `prefix` names the object in messages (e.g. `contract.`).
    pub fn apply(&self, change: &Value, prefix: &str) -> Result<Contract, ValidationError> {
        let Some(obj) = change.as_object() else {
            return Err(ValidationError(vec![err(
                prefix.trim_end_matches('.'),
                format!(
                    "must be an object of contract fields ({})",
                    FIELDS.join(", ")
                ),
            )]));
        };
        let mut next = self.clone();
        let mut errors = Vec::new();
        for key in obj.keys() {
            if !FIELDS.contains(&key.as_str()) {
                errors.push(err(
                    &format!("{prefix}{key}"),
                    format!("is not a contract field (fields: {})", FIELDS.join(", ")),
                ));
            }
        }
        let field = |name: &str| obj.get(name);
        let named = |name: &str| format!("{prefix}{name}");
        macro_rules! set {
            ($name:literal, $slot:expr, $parse:expr) => {
                match field($name) {
                    None => {}
                    Some(Value::Null) => $slot = None,
                    Some(v) => match $parse(v) {
                        Ok(x) => $slot = Some(x),
                        Err(m) => errors.push(err(&named($name), m)),
                    },
                }
            };
        }
        set!("effective_date", next.effective_date, parse_date);
        set!("expiration_date", next.expiration_date, parse_date);
        set!("cost", next.cost, parse_cost);
        set!("currency", next.currency, parse_currency);
        set!("payment_frequency", next.payment_frequency, parse_frequency);
        if errors.is_empty()
            && let (Some(from), Some(to)) = (next.effective_date, next.expiration_date)
            && to <= from
        {
            errors.push(err(
                &named("expiration_date"),
                format!("({to}) must be after the effective date ({from})"),
            ));
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ValidationError(errors))
        }
    }
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn text(v: &Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.trim().to_owned()),
        other => Err(format!("must be {what}, not {}", kind(other))),
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// An ISO 8601 calendar date, `YYYY-MM-DD`.
pub fn parse_date(v: &Value) -> Result<NaiveDate, String> {
    const WHAT: &str = "an ISO 8601 date YYYY-MM-DD (e.g. \"2026-01-31\")";
    let s = text(v, WHAT)?;
    let well_formed = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(format!("must be {WHAT}, not {s:?}"));
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .map_err(|_| format!("is not a real calendar date: {s:?}"))
}

/// A non-negative decimal amount: a JSON string such as `"1200.50"` (or a whole JSON number).
/// Fractional JSON numbers are refused: they pass through binary floating point.
pub fn parse_cost(v: &Value) -> Result<Decimal, String> {
    const WHAT: &str = "a non-negative decimal amount as a string, e.g. \"1200.50\"";
    let s = match v {
        Value::Number(n) if n.is_u64() => n.to_string(),
        Value::Number(n) if n.is_i64() => {
            return Err(format!("must not be negative (got {n})"));
        }
        Value::Number(n) => {
            return Err(format!(
                "must be {WHAT}: the JSON number {n} would pass through floating point; \
                 send it as a string"
            ));
        }
        other => text(other, WHAT)?,
    };
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
        && s.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(format!("must be {WHAT}, not {s:?}"));
    }
    let d = Decimal::from_str_exact(&s).map_err(|_| format!("must be {WHAT}, not {s:?}"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(format!("must not be negative (got {s})"));
    }
    if d.scale() > MAX_COST_SCALE {
        return Err(format!(
            "has more than {MAX_COST_SCALE} decimal places ({s})"
        ));
    }
    if d > Decimal::from(MAX_COST) {
        return Err(format!("is too large ({s}); at most {MAX_COST}"));
    }
    Ok(d.abs())
}

/// An ISO 4217 code (case-insensitive; stored upper case).
pub fn parse_currency(v: &Value) -> Result<Currency, String> {
    let s = text(v, "an ISO 4217 currency code such as \"USD\"")?;
    currency::lookup(&s.to_ascii_uppercase()).ok_or_else(|| {
        format!("must be an ISO 4217 currency code such as \"USD\" or \"EUR\", not {s:?}")
    })
}

pub fn parse_frequency(v: &Value) -> Result<PaymentFrequency, String> {
    let s = text(v, "one of monthly, quarterly, annual or one-time")?;
    s.to_ascii_lowercase().parse()
}

/// The change as a JSON object (for tests and callers building one in code).
pub fn change(pairs: &[(&str, Value)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Map<_, _>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(v: Value) -> Result<Contract, ValidationError> {
        Contract::default().apply(&v, "contract.")
    }

    fn fails_on(v: Value, field: &str, needle: &str) {
        let e = apply(v.clone()).unwrap_err();
        assert_eq!(e.fields(), vec![field], "{v}: {e}");
        let msg = e.to_string();
        assert!(msg.contains(field) && msg.contains(needle), "{v}: {msg}");
    }

    #[test]
    fn a_full_contract_parses() {
        let c = apply(json!({
            "effective_date": "2026-01-01", "expiration_date": "2026-12-31",
            "cost": "12000.50", "currency": "eur", "payment_frequency": "Annual"
        }))
        .unwrap();
        assert_eq!(c.effective_date, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(c.expiration_date, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(c.cost, Some(Decimal::new(1_200_050, 2)));
        assert_eq!(c.currency.map(|c| c.code), Some("EUR"));
        assert_eq!(c.payment_frequency, Some(PaymentFrequency::Annual));
        let stored = c.to_stored();
        assert_eq!(stored.cost.as_deref(), Some("12000.5"));
        assert_eq!(Contract::from_stored(&stored).unwrap(), c);
    }

    #[test]
    fn dates_must_be_iso_8601_calendar_dates() {
        for good in ["2026-02-28", "2024-02-29", "1999-12-31"] {
            assert!(parse_date(&json!(good)).is_ok(), "{good}");
        }
        for bad in [
            "2026/02/28",
            "28-02-2026",
            "2026-2-28",
            "20260228",
            "2026-02-28T00:00:00Z",
            "",
            "tomorrow",
        ] {
            fails_on(
                json!({"effective_date": bad}),
                "contract.effective_date",
                "ISO 8601",
            );
        }
        fails_on(
            json!({"expiration_date": "2026-02-30"}),
            "contract.expiration_date",
            "not a real calendar date",
        );
        fails_on(
            json!({"effective_date": 20260101}),
            "contract.effective_date",
            "the number",
        );
    }

    #[test]
    fn expiration_must_follow_effective() {
        fails_on(
            json!({"effective_date": "2026-06-01", "expiration_date": "2026-05-31"}),
            "contract.expiration_date",
            "must be after the effective date",
        );
        fails_on(
            json!({"effective_date": "2026-06-01", "expiration_date": "2026-06-01"}),
            "contract.expiration_date",
            "after",
        );
        // Checked against the stored other date too.
        let stored = apply(json!({"effective_date": "2026-06-01"})).unwrap();
        let e = stored
            .apply(&json!({"expiration_date": "2026-01-01"}), "contract.")
            .unwrap_err();
        assert_eq!(e.fields(), vec!["contract.expiration_date"]);
        assert!(
            stored
                .apply(&json!({"expiration_date": "2027-05-31"}), "")
                .is_ok()
        );
    }

    #[test]
    fn cost_is_a_non_negative_decimal_without_floats() {
        for (good, want) in [
            ("0", Decimal::ZERO),
            ("19.99", Decimal::new(1999, 2)),
            (" 1200 ", Decimal::new(1200, 0)),
            ("0.0001", Decimal::new(1, 4)),
        ] {
            assert_eq!(parse_cost(&json!(good)).unwrap(), want, "{good}");
        }
        assert_eq!(parse_cost(&json!(250)).unwrap(), Decimal::new(250, 0));
        fails_on(json!({"cost": "-1"}), "contract.cost", "negative");
        fails_on(json!({"cost": -5}), "contract.cost", "negative");
        fails_on(json!({"cost": 19.99}), "contract.cost", "floating point");
        fails_on(
            json!({"cost": "1,200.00"}),
            "contract.cost",
            "decimal amount",
        );
        fails_on(json!({"cost": "1e3"}), "contract.cost", "decimal amount");
        fails_on(json!({"cost": "NaN"}), "contract.cost", "decimal amount");
        fails_on(json!({"cost": "$12"}), "contract.cost", "decimal amount");
        fails_on(json!({"cost": "1.2.3"}), "contract.cost", "decimal amount");
        fails_on(
            json!({"cost": "0.00001"}),
            "contract.cost",
            "decimal places",
        );
        fails_on(
            json!({"cost": "10000000000000000000"}),
            "contract.cost",
            "too large",
        );
        fails_on(json!({"cost": true}), "contract.cost", "boolean");
    }

    #[test]
    fn currency_is_an_iso_4217_code() {
        assert_eq!(parse_currency(&json!("usd")).unwrap().code, "USD");
        assert_eq!(parse_currency(&json!("JPY")).unwrap().minor_units, 0);
        for bad in ["US", "DOLLAR", "XXX", "ABC", "", "€"] {
            fails_on(json!({"currency": bad}), "contract.currency", "ISO 4217");
        }
    }

    #[test]
    fn payment_frequency_is_one_of_four() {
        for p in ["monthly", "quarterly", "annual", "one-time", "ONE-TIME"] {
            assert!(parse_frequency(&json!(p)).is_ok(), "{p}");
        }
        for bad in ["yearly", "weekly", "one_time", "", "biannual"] {
            fails_on(
                json!({"payment_frequency": bad}),
                "contract.payment_frequency",
                "monthly, quarterly, annual or one-time",
            );
        }
    }

    #[test]
    fn every_problem_is_reported_and_null_clears() {
        let e = apply(json!({"cost": "-1", "currency": "ZZZ", "colour": "red"})).unwrap_err();
        let mut fields = e.fields();
        fields.sort();
        assert_eq!(
            fields,
            vec!["contract.colour", "contract.cost", "contract.currency"]
        );
        let c = apply(json!({"cost": "5", "currency": "USD"})).unwrap();
        let cleared = c.apply(&json!({"cost": null}), "").unwrap();
        assert_eq!(cleared.cost, None);
        assert_eq!(cleared.currency.map(|c| c.code), Some("USD"));
        assert!(Contract::default().apply(&json!("x"), "contract.").is_err());
    }
}
