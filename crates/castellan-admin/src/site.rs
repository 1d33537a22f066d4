//! [`Site`]: what every admin handler shares — the store, the registered models, the header's
//! settings and the templates.

use std::sync::Arc;

use castellan_store::Store;

use crate::model_admin::ModelAdmin;
use crate::render::Renderer;

/// What every handler shares.
pub(crate) struct Site {
    pub(crate) store: Store,
    pub(crate) models: Vec<Arc<dyn ModelAdmin>>,
    pub(crate) title: String,
    /// Where anonymous users are sent (with `next`).
    pub(crate) login_url: String,
    /// Where the header's logout form posts.
    pub(crate) logout_url: String,
    /// The header's "Change password" link, if any.
    pub(crate) password_change_url: Option<String>,
    /// The header's "View site" link, if any.
    pub(crate) site_url: Option<String>,
    /// Apps' verbose names, by label.
    pub(crate) app_names: Vec<(String, String)>,
    pub(crate) renderer: Renderer,
    /// The prefix given to [`Admin::router_at`] ("" for [`Admin::router`]).
    pub(crate) prefix: String,
}

impl Site {
    /// The registered model admin for `app`/`model`.
    pub(crate) fn model(&self, app: &str, model: &str) -> Option<&Arc<dyn ModelAdmin>> {
        self.models
            .iter()
            .find(|m| m.app_label() == app && m.model_name() == model)
    }

    /// An app's heading: its registered verbose name, "Authentication and Authorization" for
    /// `auth`, else the label with its words capitalised (Django's `AppConfig.verbose_name`
    /// default, `label.title()`).
    pub(crate) fn app_name(&self, label: &str) -> String {
        if let Some((_, name)) = self.app_names.iter().find(|(l, _)| l == label) {
            return name.clone();
        }
        if label == "auth" {
            return "Authentication and Authorization".to_owned();
        }
        label
            .split('_')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_uppercase().collect::<String>() + c.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
