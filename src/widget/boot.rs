//! What the widget needs before its socket opens ([`WidgetBoot`]: whether
//! an agent is online, the admins' look and words, whether the host page
//! may embed it), carried in the page itself: the server computes it while
//! rendering and writes it into the widget's `data-boot` attribute, and
//! hydration reads it back, so both sides draw the same widget from the
//! first byte (no resource to wait for, nothing fetched).

use crate::protocol::WidgetBoot;

/// The boot data and its `data-boot` text: computed on the server (for the
/// host page `embed_origin`, when embedded), read back from the page in the
/// browser.
pub fn read(embed_origin: Option<&str>) -> (WidgetBoot, String) {
    #[cfg(feature = "ssr")]
    {
        let boot = crate::api::widget_boot_now(embed_origin);
        let text = serde_json::to_string(&boot).unwrap_or_default();
        (boot, text)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = embed_origin;
        let text = from_page().unwrap_or_default();
        let boot = serde_json::from_str(&text).unwrap_or_else(|_| unknown());
        (boot, text)
    }
}

/// The `data-boot` text the server wrote (browser only).
#[cfg(not(feature = "ssr"))]
fn from_page() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::window()?
            .document()?
            .query_selector("[data-boot]")
            .ok()??
            .get_attribute("data-boot")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        None
    }
}

/// Nobody online, the default look, not embedded: what a page without
/// boot data shows.
#[cfg(not(feature = "ssr"))]
fn unknown() -> WidgetBoot {
    WidgetBoot {
        online: false,
        settings: Default::default(),
        embed_allowed: None,
        back_at: None,
    }
}
