//! Business hours as admins set them: a time zone, one opening window per
//! weekday, and whether live chat stays open outside them. Shared: the
//! server decides from them whether the team is in (`server/hours.rs`), the
//! console's form shows and checks the same values.

use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// Minutes in a day: a window may end at 24:00.
pub const DAY_MINUTES: u16 = 24 * 60;
/// Longest time zone name accepted (IANA names are far shorter).
pub const MAX_TIME_ZONE_CHARS: usize = 64;

/// One weekday's opening window, in minutes after midnight in the hours'
/// time zone (`from` < `to` ≤ 24:00; no window crosses midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// Whether the team works that day at all.
    pub open: bool,
    /// Opening time, minutes after midnight.
    pub from: u16,
    /// Closing time, minutes after midnight.
    pub to: u16,
}

impl DayHours {
    /// A working day from `from` to `to` (minutes).
    pub const fn open(from: u16, to: u16) -> Self {
        Self {
            open: true,
            from,
            to,
        }
    }

    /// A day off (the window is kept so that the form shows it again).
    pub const fn closed(from: u16, to: u16) -> Self {
        Self {
            open: false,
            from,
            to,
        }
    }
}

/// The team's weekly hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessHours {
    /// Off (the default): the chat is open whenever an agent is online.
    pub enabled: bool,
    /// IANA time zone the windows are in, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// Monday first, seven days.
    pub days: Vec<DayHours>,
    /// Outside hours, signed-in agents still take live chats; the widget
    /// only says when the team is back when nobody is online.
    pub keep_chat_open: bool,
}

impl Default for BusinessHours {
    /// Off; Monday to Friday 09:00–18:00 in UTC, ready to be switched on.
    fn default() -> Self {
        let weekday = DayHours::open(9 * 60, 18 * 60);
        let weekend = DayHours::closed(9 * 60, 18 * 60);
        Self {
            enabled: false,
            time_zone: "UTC".to_owned(),
            days: vec![
                weekday, weekday, weekday, weekday, weekday, weekend, weekend,
            ],
            keep_chat_open: false,
        }
    }
}

impl BusinessHours {
    /// Checks the shape of every value: seven days, each window inside the
    /// day and not empty, a time zone name. Whether the zone exists is the
    /// server's to check (the browser has no time zone database to ask).
    pub fn checked(mut self) -> Result<Self, ErrorCode> {
        self.time_zone = self.time_zone.trim().to_owned();
        if self.time_zone.is_empty()
            || self.time_zone.chars().count() > MAX_TIME_ZONE_CHARS
            || self.time_zone.chars().any(char::is_whitespace)
        {
            return Err(ErrorCode::BadTimeZone);
        }
        let windows_fit = self
            .days
            .iter()
            .all(|d| d.from < d.to && d.to <= DAY_MINUTES);
        if self.days.len() != 7 || !windows_fit {
            return Err(ErrorCode::BadHours);
        }
        Ok(self)
    }
}

/// `HH:MM` (24-hour; `24:00` allowed) as minutes after midnight.
pub fn parse_clock(value: &str) -> Option<u16> {
    let (h, m) = value.trim().split_once(':')?;
    let digits = |t: &str| t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let minutes = h * 60 + m;
    (m < 60 && minutes <= DAY_MINUTES).then_some(minutes)
}

/// Minutes after midnight as `HH:MM`.
pub fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_read_and_write_as_forms_send_them() {
        assert_eq!(parse_clock("09:30"), Some(570));
        assert_eq!(parse_clock("00:00"), Some(0));
        assert_eq!(parse_clock("24:00"), Some(DAY_MINUTES));
        for bad in [
            "", "9:30", "24:01", "12:60", "ab:cd", "12-30", "123:00", "+1:00",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad:?}");
        }
        assert_eq!(clock(570), "09:30");
        assert_eq!(clock(DAY_MINUTES), "24:00");
    }

    #[test]
    fn hours_are_seven_non_empty_windows_in_a_named_zone() {
        let good = BusinessHours {
            time_zone: " Asia/Shanghai ".into(),
            ..BusinessHours::default()
        };
        assert_eq!(
            good.checked().map(|h| h.time_zone),
            Ok("Asia/Shanghai".to_owned())
        );
        let mut backwards = BusinessHours::default();
        backwards.days[2] = DayHours::open(18 * 60, 9 * 60);
        assert_eq!(backwards.checked(), Err(ErrorCode::BadHours));
        let mut empty = BusinessHours::default();
        empty.days[0] = DayHours::closed(600, 600);
        assert_eq!(empty.checked(), Err(ErrorCode::BadHours));
        let mut six = BusinessHours::default();
        six.days.pop();
        assert_eq!(six.checked(), Err(ErrorCode::BadHours));
        for zone in ["", "  ", "Asia/ Shanghai"] {
            let bad = BusinessHours {
                time_zone: zone.into(),
                ..BusinessHours::default()
            };
            assert_eq!(bad.checked(), Err(ErrorCode::BadTimeZone), "{zone:?}");
        }
    }

    #[test]
    fn settings_stored_before_hours_existed_read_as_hours_off() {
        let older: super::super::settings::SiteSettings =
            serde_json::from_str(r##"{"widget":{"color":"#112233"},"allowed_origins":[]}"##)
                .expect("reads");
        assert!(!older.hours.enabled);
        assert_eq!(older.hours.days.len(), 7);
    }
}
