//! What the window keeps across restarts (with its size, which eframe keeps): the page shown
//! and the theme; the pages of the navigation.

use serde::{Deserialize, Serialize};

use super::theme;

/// The pages of the left navigation, each a [`Screen`] (or one to come).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Page {
    #[default]
    Campaigns,
    Data,
    Deliveries,
    Reports,
    Visitors,
    Channels,
    Social,
    Settings,
}

impl Page {
    pub const ALL: [Self; 8] = [
        Self::Campaigns,
        Self::Data,
        Self::Deliveries,
        Self::Reports,
        Self::Visitors,
        Self::Channels,
        Self::Social,
        Self::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Campaigns => "Campaigns",
            Self::Data => "Data",
            Self::Deliveries => "Deliveries",
            Self::Reports => "Reports",
            Self::Visitors => "Visitors",
            Self::Channels => "Channels",
            Self::Social => "Social (X)",
            Self::Settings => "Settings",
        }
    }

    pub(super) fn icon(self) -> &'static str {
        match self {
            Self::Campaigns => theme::ICON_CAMPAIGNS,
            Self::Data => theme::ICON_DATA,
            Self::Deliveries => theme::ICON_DELIVERIES,
            Self::Reports => theme::ICON_REPORTS,
            Self::Visitors => theme::ICON_VISITORS,
            Self::Channels => theme::ICON_CHANNELS,
            Self::Social => theme::ICON_SOCIAL,
            Self::Settings => theme::ICON_SETTINGS,
        }
    }
}

/// Light, dark, or as the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub(super) fn egui(self) -> egui::ThemePreference {
        match self {
            Self::System => egui::ThemePreference::System,
            Self::Light => egui::ThemePreference::Light,
            Self::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// What survives a restart (with the window size, which eframe keeps).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedState {
    pub screen: Page,
    pub theme: ThemeChoice,
}

/// Where eframe keeps [`SavedState`].
pub(super) const STORAGE_KEY: &str = "campaign-console";
