//! Who the visitor is for the agent, from the widget's side: the page
//! they are on (the host page when embedded) with their time zone, sent
//! as `page_view`; and the chime an agent's reply plays while the page is
//! hidden, which the visitor may mute.

use super::state::{WidgetState, SOUND_KEY};
use leptos::prelude::*;

use super::embed::HostPage;
use crate::protocol::ClientMsg;

impl WidgetState {
    /// The visitor is on `page` now: told to the server (if connected;
    /// else at the next `welcome`).
    pub fn set_page(&self, page: HostPage) {
        self.page.set_value(Some(page));
        self.tell_page();
    }

    /// Sends the page the visitor is on, with their time zone. A page
    /// over the server's limits is not sent (its title is cut to fit).
    pub(super) fn tell_page(&self) {
        let Some(page) = self.page.get_value() else {
            return;
        };
        if page.url.len() > crate::protocol::MAX_PAGE_URL_BYTES {
            return;
        }
        let title = page
            .title
            .chars()
            .take(crate::protocol::MAX_PAGE_TITLE_CHARS)
            .collect();
        let referrer = page
            .referrer
            .filter(|r| r.len() <= crate::protocol::MAX_PAGE_URL_BYTES);
        let (time_zone, utc_offset) = time_zone();
        self.session.outbox.send(ClientMsg::PageView {
            url: page.url,
            title,
            referrer,
            time_zone,
            utc_offset,
        });
    }

    /// Mutes or unmutes the widget's chime, remembered for the visitor.
    pub fn set_muted(&self, muted: bool) {
        self.muted.set(muted);
        self.save(SOUND_KEY, if muted { "off" } else { "on" });
        #[cfg(feature = "hydrate")]
        if !muted {
            crate::client::sound::unlock();
        }
    }
}

/// The browser's IANA time zone and its offset from UTC in minutes (east
/// positive), where known.
fn time_zone() -> (Option<String>, Option<i32>) {
    #[cfg(feature = "hydrate")]
    {
        let format =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
        let zone = js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
            .filter(|z| z.len() <= crate::protocol::MAX_TIME_ZONE_CHARS);
        let offset = -js_sys::Date::new_0().get_timezone_offset();
        (zone, Some(offset as i32))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        (None, None)
    }
}
