//! The app's icon for the window, decoded from the PNG rendered from its SVG.

/// The app's icon (`assets/icons/`, drawn for the project), for the window.
pub(super) fn app_icon() -> egui::IconData {
    // 128 px: a 256 px icon is over the largest property an X server takes in one request.
    let png = include_bytes!("../../assets/icons/128x128.png");
    match image::load_from_memory_with_format(png, image::ImageFormat::Png) {
        Ok(img) => {
            let rgba = img.into_rgba8();
            let (width, height) = rgba.dimensions();
            egui::IconData { rgba: rgba.into_raw(), width, height }
        }
        Err(e) => {
            tracing::warn!("the app's icon could not be read: {e}");
            egui::IconData::default()
        }
    }
}
