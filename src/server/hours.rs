//! Business hours on the clock: whether the team is in now, and when it is
//! next in, in the admins' time zone (IANA names, from the database `jiff`
//! bundles). A task applies them to the hub every few seconds, and saving
//! the settings applies them at once.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::protocol::hours::BusinessHours;
use crate::server::hub::Hub;
use crate::server::site::Site;

/// How often the hours are looked at: a window opens or closes for
/// visitors at most this late.
const TICK: Duration = Duration::from_secs(5);

/// Business hours at one moment, as the hub applies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoursGate {
    /// New chats are closed (outside hours, and live chat is not kept open).
    pub closed: bool,
    /// Outside hours: when the team is next in (unix ms); `None` inside
    /// hours, with hours off, or when no day is open.
    pub back_at: Option<i64>,
}

/// Whether `name` is a time zone the server knows.
pub fn known_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

/// Where `now` falls in `hours`.
pub fn gate(hours: &BusinessHours, now: Timestamp) -> HoursGate {
    if !hours.enabled || hours.days.len() != 7 {
        return HoursGate::default();
    }
    let Ok(zone) = TimeZone::get(&hours.time_zone) else {
        // Checked when saved; a zone that disappears keeps the chat open.
        return HoursGate::default();
    };
    let here = now.to_zoned(zone.clone());
    let minute = here.hour() as u16 * 60 + here.minute() as u16;
    let today = hours.days[weekday_index(here.date())];
    if today.open && today.from <= minute && minute < today.to {
        return HoursGate::default();
    }
    HoursGate {
        closed: !hours.keep_chat_open,
        back_at: next_opening(hours, &zone, now),
    }
}

/// The first opening after `now`, within the coming week.
fn next_opening(hours: &BusinessHours, zone: &TimeZone, now: Timestamp) -> Option<i64> {
    let today = now.to_zoned(zone.clone()).date();
    (0..=7).find_map(|ahead: i64| {
        let date = today.checked_add(ahead.days()).ok()?;
        let day = hours.days[weekday_index(date)];
        if !day.open {
            return None;
        }
        let (h, m) = ((day.from / 60) as i8, (day.from % 60) as i8);
        // A clock time skipped by a DST change opens at the first instant after it.
        let opens = date.at(h, m, 0, 0).to_zoned(zone.clone()).ok()?.timestamp();
        (opens > now).then(|| opens.as_millisecond())
    })
}

/// Monday 0 … Sunday 6, the order of [`BusinessHours::days`].
fn weekday_index(date: jiff::civil::Date) -> usize {
    date.weekday().to_monday_zero_offset() as usize
}

/// Applies the hours to the hub now, then every [`TICK`].
pub fn spawn(hub: Hub, site: Site) {
    hub.set_hours(gate(&site.get().hours, Timestamp::now()));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            hub.set_hours(gate(&site.get().hours, Timestamp::now()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hours::DayHours;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a timestamp")
    }

    /// Monday–Friday 09:00–18:00 in Shanghai (UTC+8, no DST).
    fn shanghai() -> BusinessHours {
        BusinessHours {
            enabled: true,
            time_zone: "Asia/Shanghai".into(),
            ..BusinessHours::default()
        }
    }

    #[test]
    fn inside_the_window_the_chat_is_open() {
        // Wednesday 2026-12-02 10:00 in Shanghai.
        let now = at("2026-12-02T02:00:00Z");
        assert_eq!(gate(&shanghai(), now), HoursGate::default());
    }

    #[test]
    fn after_closing_the_team_is_back_next_morning_in_its_own_zone() {
        // Wednesday 19:00 in Shanghai: back Thursday 09:00 there (01:00 UTC).
        let g = gate(&shanghai(), at("2026-12-02T11:00:00Z"));
        assert!(g.closed);
        assert_eq!(g.back_at, Some(at("2026-12-03T01:00:00Z").as_millisecond()));
        // Closing time itself is outside (the window is [from, to)).
        assert!(gate(&shanghai(), at("2026-12-02T10:00:00Z")).closed);
    }

    #[test]
    fn over_the_weekend_the_team_is_back_on_monday() {
        // Friday 2026-12-04 20:00 in Shanghai → Monday 2026-12-07 09:00.
        let g = gate(&shanghai(), at("2026-12-04T12:00:00Z"));
        assert_eq!(g.back_at, Some(at("2026-12-07T01:00:00Z").as_millisecond()));
        // Early on a Monday, before opening: back the same morning.
        let g = gate(&shanghai(), at("2026-12-06T23:00:00Z"));
        assert_eq!(g.back_at, Some(at("2026-12-07T01:00:00Z").as_millisecond()));
    }

    #[test]
    fn opening_follows_daylight_saving_time() {
        // New York opens 09:00 local: 14:00 UTC in winter, 13:00 UTC in summer.
        let ny = BusinessHours {
            enabled: true,
            time_zone: "America/New_York".into(),
            ..BusinessHours::default()
        };
        // Sunday 2026-03-08 is the switch; Monday 09:00 EDT is 13:00 UTC.
        let g = gate(&ny, at("2026-03-08T12:00:00Z"));
        assert_eq!(g.back_at, Some(at("2026-03-09T13:00:00Z").as_millisecond()));
        let g = gate(&ny, at("2026-01-11T12:00:00Z"));
        assert_eq!(g.back_at, Some(at("2026-01-12T14:00:00Z").as_millisecond()));
    }

    #[test]
    fn keeping_chat_open_still_says_when_the_team_is_back() {
        let hours = BusinessHours {
            keep_chat_open: true,
            ..shanghai()
        };
        let g = gate(&hours, at("2026-12-02T11:00:00Z"));
        assert!(!g.closed);
        assert!(g.back_at.is_some());
    }

    #[test]
    fn hours_off_or_no_open_day() {
        let off = BusinessHours {
            enabled: false,
            ..shanghai()
        };
        assert_eq!(gate(&off, at("2026-12-02T11:00:00Z")), HoursGate::default());
        let never = BusinessHours {
            days: vec![DayHours::closed(540, 1080); 7],
            ..shanghai()
        };
        let g = gate(&never, at("2026-12-02T02:00:00Z"));
        assert_eq!(
            g,
            HoursGate {
                closed: true,
                back_at: None
            }
        );
    }

    #[test]
    fn zones_are_iana_names() {
        assert!(known_zone("Asia/Shanghai"));
        assert!(known_zone("UTC"));
        assert!(!known_zone("Mars/Olympus_Mons"));
        assert!(!known_zone("../etc/passwd"));
    }
}
