//! The words of the pages around the two UIs (the demo page, "not found").

use crate::i18n::Lang;

/// The pages' texts.
#[derive(Debug, Clone, Copy)]
pub struct PageStrings {
    /// For an unknown path.
    pub not_found: &'static str,
    /// The demo page's heading (a made-up shop).
    pub demo_title: &'static str,
    /// What the demo page is.
    pub demo_intro: &'static str,
    /// Before the link to the console.
    pub demo_agents: &'static str,
}

impl PageStrings {
    /// The table for `lang`.
    pub fn of(lang: Lang) -> PageStrings {
        match lang {
            Lang::En => EN,
            Lang::ZhCn => ZH_CN,
        }
    }
}

/// English.
pub const EN: PageStrings = PageStrings {
    not_found: "Page not found.",
    demo_title: "Acme Widgets",
    demo_intro: "This page stands in for your website. The chat button at the bottom right is kefu's widget: click it to talk to an agent.",
    demo_agents: "Agents answer at",
};

/// 简体中文.
pub const ZH_CN: PageStrings = PageStrings {
    not_found: "页面不存在。",
    demo_title: "示例商店",
    demo_intro: "这个页面代表您的网站。右下角的聊天按钮就是 kefu 的访客窗口：点击即可与客服交谈。",
    demo_agents: "客服在此回复：",
};
