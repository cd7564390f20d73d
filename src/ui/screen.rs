//! What every screen of the window is: drawn once a frame with what it may use, and told of
//! each event the Console sends (it takes those about it and leaves the rest). The app routes
//! every event to every screen: none needs a case in the app to get its results.

use super::{Commands, ThemeChoice};
use crate::console::{Console, Event, RequestId};

/// What a screen may use while it is drawn.
pub struct ScreenContext<'a> {
    pub console: &'a Console,
    /// Commands for the Console, sent at the end of the frame.
    pub commands: &'a mut Commands,
    /// The window's theme (Settings changes it).
    pub theme: &'a mut ThemeChoice,
}

/// A screen of the window.
pub trait Screen {
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut ScreenContext<'_>);

    /// An event from the Console, with the request it answers (the id [`Commands::push`]
    /// gave): a screen takes those about it, and knows its own answers by their request.
    fn on_event(&mut self, event: &Event, request: Option<RequestId>);
}
