//! Harbor's schedule object: `{"type": "None|Manual|Hourly|Daily|Weekly|Custom", "cron": ".."}`
//! with six-field cron expressions whose first (seconds) field is `0`.

use serde::{Deserialize, Serialize};

/// A schedule as the REST API reads and writes it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Schedule {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub cron: String,
}

/// Why a schedule is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("schedule type {0:?} is not one of None, Manual, Hourly, Daily, Weekly, Custom")]
    Type(String),
    #[error("cron {0:?} is invalid: use six fields, seconds first, and 0 as the seconds")]
    Cron(String),
}

impl Schedule {
    pub fn none() -> Self {
        Self {
            kind: "None".into(),
            cron: String::new(),
        }
    }

    /// The cron expression this schedule fires on, or `None` for `None`/`Manual`. `Hourly`,
    /// `Daily` and `Weekly` use Harbor's fixed expressions.
    ///
    /// # Errors
    /// An unknown type, or a `Custom` cron that does not parse.
    pub fn cron_expression(&self) -> Result<Option<String>, ScheduleError> {
        let cron = match self.kind.as_str() {
            "None" | "Manual" | "" => return Ok(None),
            "Hourly" => "0 0 * * * *".to_owned(),
            "Daily" => "0 0 0 * * *".to_owned(),
            "Weekly" => "0 0 0 * * 0".to_owned(),
            "Custom" | "Schedule" => self.cron.trim().to_owned(),
            other => return Err(ScheduleError::Type(other.to_owned())),
        };
        validate_cron(&cron)?;
        Ok(Some(cron))
    }

    /// The schedule stored for `schedule_type`/`cron` columns, as the API shows it.
    pub fn from_stored(schedule_type: &str, cron: &str) -> Self {
        Self {
            kind: schedule_type.to_owned(),
            cron: cron.to_owned(),
        }
    }
}

/// Checks a six-field cron expression with `0` seconds.
///
/// # Errors
/// [`ScheduleError::Cron`] when it does not parse.
pub fn validate_cron(cron: &str) -> Result<(), ScheduleError> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    if fields.len() != 6 || fields[0] != "0" {
        return Err(ScheduleError::Cron(cron.to_owned()));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(cron)
        .map(|_| ())
        .map_err(|_| ScheduleError::Cron(cron.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_types_map_to_cron() {
        let daily = Schedule::from_stored("Daily", "");
        assert_eq!(daily.cron_expression(), Ok(Some("0 0 0 * * *".into())));
        assert_eq!(Schedule::none().cron_expression(), Ok(None));
        let custom = Schedule::from_stored("Custom", "0 */5 * * * *");
        assert_eq!(custom.cron_expression(), Ok(Some("0 */5 * * * *".into())));
        let bad = Schedule::from_stored("Custom", "*/5 * * * *");
        assert!(bad.cron_expression().is_err());
        assert!(
            Schedule::from_stored("Monthly", "")
                .cron_expression()
                .is_err()
        );
        assert!(
            Schedule::from_stored("Custom", "0 99 * * * *")
                .cron_expression()
                .is_err()
        );
    }
}
